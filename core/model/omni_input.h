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

// The model's own system prompt (Qwen2.5-Omni's processor warns without it; speech output needs it).
inline constexpr const char* kQwenOmniSystemPrompt =
    "You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving auditory "
    "and visual inputs, as well as generating text and speech.";

struct ManifestSample {
    int line = 0;              // 1-based line in the manifest
    std::string text;
    std::string image;         // absolute paths (resolved against the manifest's folder); "" = none
    std::string audio;
    std::string video;         // a folder of frames (sorted by name, taken as sampled at `fps`) or a video file
    bool videoIsFile = false;  // video names a file (decoded with FFmpeg, sampled at `fps`)
    double fps = 2.0;          // "fps": the video's sampling rate (frames per second)
    bool useAudioInVideo = false; // "use_audio_in_video": the video file's audio track, interleaved
    std::string system = kQwenOmniSystemPrompt; // "system": the system turn's text
};

// Throws InputError naming the manifest and line for malformed JSON, unknown keys, values of the
// wrong type, a sample with nothing in it, or a media path that does not exist. Keys: text,
// image, audio, video (strings, paths relative to the manifest's folder), system (string), fps
// (number > 0), use_audio_in_video (boolean; needs a video file).
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
    int64_t videoAudioTokens = 0; // use_audio_in_video: the video's audio track, interleaved with it
};

struct PromptLayout {
    std::vector<int64_t> ids;        // [T]
    std::vector<uint8_t> modality;   // [T] Modality of each token (markers are text)
    std::vector<int64_t> positions;  // [3 * T], rows t, h, w
};

// The chat prompt of one sample: system turn (`system`), user turn with image, video, audio
// (each wrapped in its bos/eos markers and expanded to its token count) and the text, then the
// assistant header. Positions follow TMRoPE: text runs advance all rows together; an image or
// video grid of merged tokens (gridH/2 x gridW/2) gets (s + t_pos, s + row, s + col) with
// t_pos = int(float32(t_index * secondsPerGrid) * 25); audio token k gets s + k on all rows (25
// tokens per second). A video with its audio (media.videoAudioTokens > 0) becomes
// <|vision_bos|><|audio_bos|> (one position), the video and audio tokens interleaved in 2 s
// chunks (video chunk j, then audio chunk j; a chunk boundary is the first token whose t_pos - s
// reaches 50 (j + 1), as transformers' get_chunked_index), then <|audio_eos|><|vision_eos|> (one
// position); each token keeps its own position.
PromptLayout buildPrompt(const Tokenizer& tok, const OmniTokenIds& ids, const std::string& text,
                         const MediaLayout& media, const std::string& system = kQwenOmniSystemPrompt);

} // namespace mq::core
