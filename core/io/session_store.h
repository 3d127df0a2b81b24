#pragma once
// The `.mqs` session file (HDF5). Layout (format version in the root attribute
// "mqs_format_version", 2; strings are fixed-length UTF-8, NUL-padded (a string dataset as wide as
// its longest entry); version 1 files, with variable-length strings, are still read; arrays may
// have length 0):
//   /                     attrs: mqs_format_version (int32), producer
//   /model                attrs: path, fingerprint, architecture, config_json
//   /export               optional: attrs path, fingerprint of the export folder written with the
//                         session (Session::exported)
//   /calibration          attrs: source, kind ("tokens" | "manifest"), batch_size (int64 >= 1),
//                         sequences (int64); dataset tokens_per_modality [4] int64. Files written
//                         before kind and batch_size existed lack them: they read as "tokens", 8
//   /modules              compound-free: datasets name, kind, input_group (strings), layer,
//                         in_features, out_features (int64), in network order
//   /groups               dataset [G] strings: the input groups in network order
//   /stats/<group>/<modality|pooled>   datasets min, max [K] f32; sum_abs, sum_sq [K] f64;
//                         hist [K, 40] u32; attrs channels (K), count (int64). A modality
//                         with count 0 is not written and reads back as an empty ChannelStats.
//   /plan                 attr settings_json (QuantSettings as JSON; absent: no settings)
//   /plan/<group>         scores f64, mask u8, hand_edited u8, alpha0 f32, alpha f32, smooth f32
//                         (optional: SmoothQuant's factors);
//                         attrs tau_local, tau_global (f64), token_clip (f64, optional: the
//                         group's per-token clip ratio). mask is as long as scores; every
//                         other array is empty (step not run) or of that same length
//   /mdqfo/<group>        dataset loss [steps, 4] f64 (step, L_p, L_cos, total); attr index
//                         (int64): position in Session::curves
//   /eval/<i>             i = 0, 1, ...: an empty (null-dataspace) dataset per result with
//                         attrs label, data, nll, ppl (f64), tokens (int64); optional kl (f64),
//                         kl_<modality> (f64) and tokens_<modality> (int64) per modality measured
//   /errors               optional (absent: no figures; older files): the layer errors of the
//                         plan (Session::errors). Datasets module [M] strings (Linear names, in
//                         Session::errors order) and values [M, 5, 3] f64: rows text, image,
//                         video, audio, pooled; columns tokens (a whole number >= 0), sqnr_db,
//                         cosine (ErrorStat; SQNR clamped to +-200 dB, see eval/layer_error.h)
//   /weights              optional (absent: no GPTQ weights): /weights/<Linear name> with
//                         codes [out, in] u8, scales [out, in/group] f32, zeros (asymmetric only)
//                         like scales; attrs bits, group_size, symmetric (int64), format (string,
//                         absent: int), global_scale (f64, nvfp4) (StoredWeight)
// modality is text, image, video or audio. Group names contain dots but never '/'.
// Checksum: the file starts with a 512-byte HDF5 user block (the superblock follows at 512):
// "MQS-CHECKSUM 1\n", "crc32 XXXXXXXX\n" (zlib's crc32 of every byte from 512 to the end, 8 hex
// digits) and "bytes N\n" (the file's size), zero-padded. The reader checks it before HDF5 parses
// anything, so a corrupted file is refused with a clean error instead of reaching libhdf5's
// parsers (a flipped size in a global heap crashed them). Files written before the checksum (the
// superblock at 0) are read as before.
// Large datasets are chunked and deflate-compressed. Writes are atomic (temp file, fsync, rename).
// Thread-safety: all calls may come from any thread; HDF5 work is serialized on one mutex
// (Debian's HDF5 is not thread-safe).
#include <string>

#include "session.h"

namespace mq::core {

// Throws InputError naming the object for values that cannot be stored (a group name with '/',
// arrays whose lengths disagree) and Error when the disk write fails; `path` is then untouched.
void saveSession(const Session& s, const std::string& path);
// Throws InputError naming the file and the object when it is not a session, is corrupt, or is
// of a newer format version.
Session loadSession(const std::string& path);
// Rewrites the checksum of a session file that was changed on purpose with HDF5 tools (tests,
// repairs); a file without the checksum header is left alone.
void resealSession(const std::string& path);

// QuantSettings <-> JSON text (also used by the CLI's --json output and exports).
std::string settingsToJson(const QuantSettings& s);
// Missing keys take their defaults; unknown keys, wrong types, unknown enum names and
// out-of-range integers throw InputError naming `source` and the key ("weight.bits").
QuantSettings settingsFromJson(const std::string& json, const std::string& source);

} // namespace mq::core
