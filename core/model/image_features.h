#pragma once
// Image and video input for the Qwen2.5-Omni vision encoder, reproducing Qwen2VLImageProcessor
// (and qwen-omni-utils' fetch_image / fetch_video) so that the patch rows match what the
// Python reference feeds the ViT. Decoding is stb_image (PNG and JPEG only).
// Thread-safety: every function is pure and may run concurrently.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mq::core {

// 8-bit RGB, row-major, interleaved: pixels[(y * width + x) * 3 + c].
struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> pixels;

    uint8_t at(int y, int x, int c) const { return pixels[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)]; }
};

struct ResizedSize {
    int64_t height = 0;
    int64_t width = 0;
};

// The ViT input rows and their grid. patches is float32 [gridT * gridH * gridW, 3 * 2 * 14 * 14],
// rows grouped by 2x2 merge unit in (t, h/2, w/2, dy, dx) order, each row ordered
// (channel, temporal, y, x) — the Conv3d patch-embed weight reshaped to [1280, 1176] applies as is.
struct VisionPatches {
    at::Tensor patches;
    int64_t gridT = 0;
    int64_t gridH = 0;
    int64_t gridW = 0;
};

// Processor constants from preprocessor_config.json (identical for 3B and 7B).
inline constexpr int64_t kImageFactor = 28; // patch 14 * merge 2
inline constexpr int64_t kImageMinPixels = 3136; // 4 * 28^2
inline constexpr int64_t kImageMaxPixels = 12845056; // 16384 * 28^2
// Video frames (transformers' Qwen2VLVideoProcessor, which Qwen2.5-Omni's processor uses).
inline constexpr int64_t kVideoMinPixels = 128 * 28 * 28; // 100352
inline constexpr int64_t kVideoMaxPixels = 768 * 28 * 28; // 602112
inline constexpr int64_t kVideoMinFrames = 4;
inline constexpr int64_t kVideoMaxFrames = 768;
inline constexpr double kVideoDefaultFps = 2.0;
inline constexpr double kClipMean[3] = {0.48145466, 0.4578275, 0.40821073};
inline constexpr double kClipStd[3] = {0.26862954, 0.26130258, 0.27577711};

// Decodes a PNG or JPEG file to 8-bit RGB. Grey is expanded to RGB; alpha is composited on white
// with PIL's rounding, as qwen-omni-utils does. Throws InputError naming the file on a missing
// file, a format other than PNG/JPEG, or data the decoder rejects (with the decoder's reason).
RgbImage loadImage(const std::string& path);

// Qwen2-VL smart_resize as current transformers has it: the size, in multiples of factor,
// closest to (height, width) with minPixels <= h*w <= maxPixels and about the same aspect ratio.
// Python's round() (half to even) is reproduced, and a side that rounds to 0 is not clamped (the
// min_pixels branch then scales it up). Throws InputError for a zero side or an aspect ratio
// above 200.
ResizedSize smartResize(int64_t height, int64_t width, int64_t factor = kImageFactor,
                        int64_t minPixels = kImageMinPixels, int64_t maxPixels = kImageMaxPixels);

// PIL Image.resize(BICUBIC) on an RGB image, bit-exact: a = -0.5 cubic, support widened by the
// scale when downscaling (antialias), 22-bit fixed-point weights, horizontal pass then vertical,
// each rounded to 8 bits. A side of the same size is passed through untouched.
RgbImage resizeBicubic(const RgbImage& image, int height, int width);

// float32 [3, H, W]: (pixel / 255 - mean[c]) / std[c] with the CLIP mean and std.
at::Tensor normalizeImage(const RgbImage& image);

// frames: float32 [3, H, W] each, all the same size, H and W multiples of patch * merge. A frame
// count that is not a multiple of temporalPatch is padded by repeating the last frame, so one
// image gives gridT = 1. Throws InputError on an empty list or mismatched sizes.
VisionPatches patchify(const std::vector<at::Tensor>& frames, int64_t temporalPatch = 2, int64_t patch = 14,
                       int64_t merge = 2);

// loadImage, smartResize, resizeBicubic, normalizeImage and patchify for one image.
VisionPatches imagePatches(const std::string& path, int64_t minPixels = kImageMinPixels,
                           int64_t maxPixels = kImageMaxPixels);

// Frame image paths of a video folder: every *.png, *.jpg and *.jpeg in dir, sorted by file name
// (zero-pad the frame numbers). The frames are taken as already sampled (at the manifest line's
// fps, 2 by default, the rate the 7B was trained with: each temporal grid step is then 1.0 s).
// Throws InputError if dir is missing or holds no frames.
std::vector<std::string> videoFrames(const std::string& dir);

// A video given as a list of frame images, as transformers' Qwen2VLVideoProcessor treats one:
// every frame resized to smartResize(h, w, 28, 128*28*28, 768*28*28) (PIL bicubic here), and a
// count that is not a multiple of the temporal patch (2) repeats the last frame. Frames must
// share one source size, since they are stacked. Throws InputError on an empty list or naming
// the first frame whose size differs.
VisionPatches videoPatches(const std::vector<std::string>& framePaths, int64_t minPixels = kVideoMinPixels,
                           int64_t maxPixels = kVideoMaxPixels);
// The same for decoded frames (a video file); `source` names the file in errors.
VisionPatches videoPatches(const std::vector<RgbImage>& frames, const std::string& source,
                           int64_t minPixels = kVideoMinPixels, int64_t maxPixels = kVideoMaxPixels);

// The frames transformers' Qwen2VLVideoProcessor.sample_frames takes from a video of
// totalFrames frames at videoFps when sampling at fps: n = total / videoFps * fps, clamped to
// [minFrames, min(maxFrames, total) floored to a multiple of temporalPatch] and floored to a
// multiple of temporalPatch; indices = int(arange(0, total, total / n)) (float32 as torch).
// Throws InputError when the video has fewer frames than the temporal patch.
std::vector<int64_t> sampleFrameIndices(int64_t totalFrames, double videoFps, double fps,
                                        int64_t minFrames = kVideoMinFrames, int64_t maxFrames = kVideoMaxFrames,
                                        int64_t temporalPatch = 2);

} // namespace mq::core
