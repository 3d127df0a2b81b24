#pragma once
// Qwen2.5-Omni inputs for calibration: the manifest (JSONL of samples with any subset of text,
// image, audio, video), and the prompt layout of one sample — token ids with the media
// placeholders expanded, the modality tag of every token, and the TMRoPE (t, h, w) position
// of every token (QWEN25_OMNI.md §4-5). Pure functions of their inputs; no model weights.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calib/channel_stats.h"

namespace mq::core {

class Tokenizer;

struct ManifestSample {
    int line = 0;              // 1-based line in the manifest
    std::string text;
    std::string image;         // absolute paths (resolved against the manifest's folder); "" = none
    std::string audio;
    std::string video;         // a folder of frames (sorted by name, taken as sampled at 2 fps)
};

// Throws InputError naming the manifest and line for malformed JSON, unknown keys, non-string
// values, a sample with nothing in it, or a media path that does not exist.
std::vector<ManifestSample> loadManifest(const std::string& path);

// Special token ids of the thinker (thinker_config keys of the same names).
struct OmniTokenIds {
    int64_t imStart = -1, imEnd = -1;
    int64_t image = -1, video = -1, audio = -1;
    int64_t visionBos = -1, visionEos = -1, audioBos = -1, audioEos = -1;
};
// Resolved from the tokenizer's added tokens; throws InputError naming the missing token.
OmniTokenIds omniTokenIds(const Tokenizer& tok);

// What the encoders produce for one sample, as token counts and grids.
struct MediaLayout {
    int64_t imageGridT = 0, imageGridH = 0, imageGridW = 0; // patch grid (0: no image)
    int64_t videoGridT = 0, videoGridH = 0, videoGridW = 0; // (0: no video)
    double videoSecondsPerGrid = 1.0;                        // temporal_patch_size / fps
    int64_t audioTokens = 0;                                 // (0: no audio)
};

struct PromptLayout {
    std::vector<int64_t> ids;        // [T]
    std::vector<uint8_t> modality;   // [T] Modality of each token (markers are text)
    std::vector<int64_t> positions;  // [3 * T], rows t, h, w
};

// The chat prompt of one sample: system turn, user turn with image, video, audio (each wrapped
// in its bos/eos markers and expanded to its token count) and the text, then the assistant
// header. Positions follow TMRoPE: text runs advance all rows together; an image or video
// grid of merged tokens (gridH/2 x gridW/2) gets (s + 25 * t_index, s + row, s + col);
// audio token k gets s + k on all rows (25 tokens per second).
PromptLayout buildPrompt(const Tokenizer& tok, const OmniTokenIds& ids, const std::string& text,
                         const MediaLayout& media);

} // namespace mq::core
