#pragma once
// The `.mqs` session file (HDF5). Layout (format version in the root attribute
// "mqs_format_version"):
//   /                     attrs: mqs_format_version, producer
//   /model                attrs: path, fingerprint, architecture, config_json
//   /calibration          attrs: source, sequences; dataset tokens_per_modality [4] int64
//   /modules              compound-free: datasets name, kind, input_group (strings), layer,
//                         in_features, out_features (int64), in network order
//   /stats/<group>/<modality|pooled>   datasets min, max [K] f32; sum_abs, sum_sq [K] f64;
//                         hist [K, 40] u32; attr count
//   /plan                 attr settings_json (QuantSettings as JSON)
//   /plan/<group>         scores f64, mask u8, hand_edited u8, alpha0 f32, alpha f32;
//                         attrs tau_local, tau_global
//   /mdqfo/<group>        dataset loss [steps, 4] f64 (step, L_p, L_cos, total)
//   /eval                 dataset per result: attrs label, data, nll, ppl, tokens
// Group names contain dots but never '/'. Writes are atomic (temp file, fsync, rename).
#include <string>

#include "session.h"

namespace mq::core {

void saveSession(const Session& s, const std::string& path);
// Throws InputError naming the file and the object when it is not a session, is corrupt, or is
// of a newer format version.
Session loadSession(const std::string& path);

// QuantSettings <-> JSON text (also used by the CLI's --json output and exports).
std::string settingsToJson(const QuantSettings& s);
QuantSettings settingsFromJson(const std::string& json, const std::string& source);

} // namespace mq::core
