#pragma once
// User-visible (translated) names of things the engine names in English, for every view.
#include <QString>

#include <string>

#include "quant/cost.h"

namespace mq::ui {

// -1 is "pooled" (all tokens), 0..3 follow core::Modality (text, image, video, audio).
QString modalityLabel(int modality);
// An EvalResult's label: the engine's "full precision" translated; a plan's label (method and
// formats, e.g. "morphoquant W4A4 (int4-sym-ch, ...)") as it is.
QString evalLabel(const std::string& label);
// What a plan costs (core::QuantCost, README "What a figure costs"), in one translated line:
// effective activation bits per element and per multiply-add, DABC's channels and extra
// multiply-adds, effective weight bits, simulated or deployable.
QString costLine(const core::QuantCost& c);
// A Linear's name as every view shows it beside its layer: without the "...layers.N." prefix
// ("self_attn.q_proj" for "model.layers.0.self_attn.q_proj"); the full name goes in tool tips.
QString moduleShortName(const std::string& name, int layer);

} // namespace mq::ui
