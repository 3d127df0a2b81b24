#pragma once
// The user-visible (translated) name of a modality, for every view: -1 is "pooled" (all tokens),
// 0..3 follow core::Modality (text, image, video, audio).
#include <QString>

namespace mq::ui {

QString modalityLabel(int modality);

} // namespace mq::ui
