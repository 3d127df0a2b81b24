#include "model/image_features.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

// stb_image compiled into this file with internal linkage, so no other library's copy (Debian's
// libstb links one) can clash and nothing needs linking. Only the two formats we accept are
// built; decoding is from memory because we read the file ourselves to tell "missing" apart.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#include <stb/stb_image.h>

namespace mq::core {

namespace {

std::vector<unsigned char> readFile(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw InputError(describe(path, "", "image file not found or not a regular file (expected a PNG or JPEG file)"));
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(describe(path, "", "cannot open the image file for reading"));
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool isPng(const std::vector<unsigned char>& d)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    return d.size() >= 8 && std::equal(sig, sig + 8, d.begin());
}

bool isJpeg(const std::vector<unsigned char>& d)
{
    return d.size() >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF;
}

// stb pads a JPEG that ends early with zeros and reports success, where PIL (without
// LOAD_TRUNCATED_IMAGES) refuses it; a missing end-of-image marker is our sign of truncation.
// Some writers append bytes after EOI, so the marker is looked for near the end, not at it.
bool jpegHasEnd(const std::vector<unsigned char>& d)
{
    const size_t from = d.size() > 4096 ? d.size() - 4096 : 2;
    for (size_t i = d.size() - 1; i > from; --i)
        if (d[i - 1] == 0xFF && d[i] == 0xD9)
            return true;
    return false;
}

// PIL's DIV255 rounding (round(v / 255)), so that the composite matches Image.paste(mask=alpha).
inline uint8_t div255(int v)
{
    const int t = v + 128;
    return uint8_t(((t >> 8) + t) >> 8);
}

// PIL's bicubic kernel (ImagingResample, a = -0.5).
double bicubic(double x)
{
    constexpr double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

constexpr int kPrecisionBits = 32 - 8 - 2;

// One axis of PIL's precompute_coeffs + normalize_coeffs_8bpc: for each output index the first
// input index, the tap count and the fixed-point weights (ksize per output, zero padded).
struct Coeffs {
    int ksize = 0;
    std::vector<int> first, count;
    std::vector<int32_t> weights;
};

Coeffs precomputeCoeffs(int inSize, int outSize)
{
    constexpr double support0 = 2.0;
    const double scale = double(inSize) / outSize;
    const double filterScale = std::max(scale, 1.0);
    const double support = support0 * filterScale;
    Coeffs c;
    c.ksize = int(std::ceil(support)) * 2 + 1;
    c.first.resize(size_t(outSize));
    c.count.resize(size_t(outSize));
    c.weights.assign(size_t(outSize) * size_t(c.ksize), 0);
    std::vector<double> k(size_t(c.ksize));
    for (int xx = 0; xx < outSize; ++xx) {
        const double center = (xx + 0.5) * scale;
        const double ss = 1.0 / filterScale;
        // The (int) casts truncate toward zero exactly as PIL's C does.
        const int xmin = std::max(int(center - support + 0.5), 0);
        const int xmax = std::min(int(center + support + 0.5), inSize) - xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            k[size_t(x)] = bicubic((x + xmin - center + 0.5) * ss);
            ww += k[size_t(x)];
        }
        for (int x = 0; x < xmax; ++x) {
            const double w = ww != 0.0 ? k[size_t(x)] / ww : k[size_t(x)];
            const double f = w * double(1 << kPrecisionBits);
            c.weights[size_t(xx) * size_t(c.ksize) + size_t(x)] = int32_t(w < 0 ? -0.5 + f : 0.5 + f);
        }
        c.first[size_t(xx)] = xmin;
        c.count[size_t(xx)] = xmax;
    }
    return c;
}

inline uint8_t clip8(int32_t v)
{
    // Arithmetic shift floors negative sums, as PIL's lookup table does.
    return uint8_t(std::clamp(v >> kPrecisionBits, 0, 255));
}

// One pass along x (stride 3 within a row) or y (stride 3 * width), PIL's ResampleHorizontal_8bpc
// and ResampleVertical_8bpc folded into one loop.
RgbImage resampleAxis(const RgbImage& in, int outSize, bool horizontal)
{
    const int inSize = horizontal ? in.width : in.height;
    const Coeffs c = precomputeCoeffs(inSize, outSize);
    RgbImage out;
    out.width = horizontal ? outSize : in.width;
    out.height = horizontal ? in.height : outSize;
    out.pixels.resize(size_t(out.width) * size_t(out.height) * 3);
    const size_t step = horizontal ? 3 : size_t(in.width) * 3;
    for (int y = 0; y < out.height; ++y) {
        for (int x = 0; x < out.width; ++x) {
            const int o = horizontal ? x : y;
            const int32_t* k = &c.weights[size_t(o) * size_t(c.ksize)];
            const size_t base = horizontal ? (size_t(y) * size_t(in.width) + size_t(c.first[size_t(o)])) * 3
                                           : (size_t(c.first[size_t(o)]) * size_t(in.width) + size_t(x)) * 3;
            for (int ch = 0; ch < 3; ++ch) {
                int32_t ss = 1 << (kPrecisionBits - 1);
                for (int t = 0; t < c.count[size_t(o)]; ++t)
                    ss += int32_t(in.pixels[base + size_t(t) * step + size_t(ch)]) * k[t];
                out.pixels[(size_t(y) * size_t(out.width) + size_t(x)) * 3 + size_t(ch)] = clip8(ss);
            }
        }
    }
    return out;
}

// Debian's stb_image builds a JPEG Huffman table from the DHT counts without checking that they
// sum to at most 256 (the fuzzer found it writing past the table). Every DHT segment of the JPEG
// (progressive files have some between scans) is checked here first: "" when they are well
// formed, else why not.
std::string jpegHuffmanProblem(const std::vector<unsigned char>& d)
{
    size_t i = 2; // after SOI
    while (i + 4 <= d.size()) {
        if (d[i] != 0xFF)
            return "no marker at byte " + std::to_string(i);
        const unsigned char m = d[i + 1];
        if (m == 0xFF) { // fill byte
            ++i;
            continue;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { // markers without a length
            i += 2;
            continue;
        }
        if (m == 0xD9) // end of image
            return "";
        const size_t len = (size_t(d[i + 2]) << 8) | d[i + 3];
        if (m == 0xDA) { // start of scan: its header, then entropy-coded data up to the next marker
            size_t p = i + 2 + len;
            while (p + 1 < d.size() && !(d[p] == 0xFF && d[p + 1] != 0x00 && !(d[p + 1] >= 0xD0 && d[p + 1] <= 0xD7)))
                ++p;
            i = p;
            continue;
        }
        if (len < 2 || i + 2 + len > d.size())
            return "segment 0x" + std::to_string(m) + " at byte " + std::to_string(i) + " runs past the file";
        if (m == 0xC4) { // DHT: tables of (class/id, 16 counts, symbols)
            size_t p = i + 4;
            const size_t end = i + 2 + len;
            while (p < end) {
                if (p + 17 > end)
                    return "a Huffman table at byte " + std::to_string(p) + " is cut short";
                size_t total = 0;
                for (size_t k = 0; k < 16; ++k)
                    total += d[p + 1 + k];
                if (total > 256)
                    return "a Huffman table at byte " + std::to_string(p) + " declares " + std::to_string(total)
                           + " codes (at most 256)";
                p += 17 + total;
                if (p > end)
                    return "a Huffman table at byte " + std::to_string(i) + " runs past its segment";
            }
        }
        i += 2 + len;
    }
    return "";
}

// The PNG without its zero-length IDAT chunks (they carry no image data, and every other chunk
// keeps its bytes and CRC, so the image is the same). stb_image passes a zero-length IDAT that
// comes first to memcpy with a null destination, which is undefined behaviour (the fuzzer's
// finding); a stream that is not a well-formed chunk list is left as it is for stb to refuse.
std::vector<unsigned char> withoutEmptyIdat(const std::vector<unsigned char>& png)
{
    auto be32 = [&](size_t i) {
        return (uint32_t(png[i]) << 24) | (uint32_t(png[i + 1]) << 16) | (uint32_t(png[i + 2]) << 8) | uint32_t(png[i + 3]);
    };
    std::vector<unsigned char> out(png.begin(), png.begin() + std::min<size_t>(8, png.size()));
    size_t i = 8;
    bool dropped = false;
    while (i + 12 <= png.size()) {
        const uint64_t len = be32(i);
        if (i + 12 + len > png.size())
            break;
        const bool emptyIdat = len == 0 && std::memcmp(&png[i + 4], "IDAT", 4) == 0;
        if (!emptyIdat)
            out.insert(out.end(), png.begin() + long(i), png.begin() + long(i + 12 + len));
        dropped = dropped || emptyIdat;
        i += 12 + len;
    }
    if (!dropped)
        return png;
    out.insert(out.end(), png.begin() + long(std::min(i, png.size())), png.end()); // whatever did not parse
    return out;
}

// Python's round(): half to even, which std::nearbyint gives under the default rounding mode.
int64_t roundByFactor(double v, int64_t factor) { return int64_t(std::nearbyint(v / double(factor))) * factor; }

} // namespace

RgbImage loadImage(const std::string& path)
{
    std::vector<unsigned char> data = readFile(path);
    if (isPng(data))
        data = withoutEmptyIdat(data);
    if (!isPng(data) && !isJpeg(data))
        throw InputError(describe(path, "", "unsupported image format (expected PNG or JPEG)"));
    if (isJpeg(data) && !jpegHasEnd(data))
        throw InputError(describe(path, "", "cannot decode JPEG: truncated (no end-of-image marker)"));
    if (isJpeg(data)) {
        const std::string problem = jpegHuffmanProblem(data);
        if (!problem.empty())
            throw InputError(describe(path, "", "cannot decode JPEG: " + problem));
    }
    if (data.size() > size_t(INT32_MAX))
        throw InputError(describe(path, "", "image file larger than 2 GiB"));

    int w = 0, h = 0, channels = 0;
    // A few bytes can declare a huge image (the fuzzer's 1.4 KB JPEG of 6720 x 65535 pixels took
    // minutes to decode): the size is read from the header first and bounded. The processor
    // scales every image to at most 12845056 pixels anyway.
    constexpr int64_t kMaxPixels = int64_t(1) << 26; // 67 M pixels, e.g. 8192 x 8192
    if (stbi_info_from_memory(data.data(), int(data.size()), &w, &h, &channels)
        && int64_t(w) * int64_t(h) > kMaxPixels)
        throw InputError(describe(path, "", "the image declares " + std::to_string(w) + " x " + std::to_string(h)
                                                + " pixels, more than the " + std::to_string(kMaxPixels)
                                                + " this reader decodes"));
    // Always ask for RGBA: stb expands grey and grey+alpha, and RGB gets alpha 255, so one
    // composite below covers every source layout.
    std::unique_ptr<stbi_uc, void (*)(void*)> rgba(
        stbi_load_from_memory(data.data(), int(data.size()), &w, &h, &channels, 4), stbi_image_free);
    if (!rgba) {
        const char* reason = stbi_failure_reason();
        throw InputError(describe(path, "", std::string("cannot decode ") + (isPng(data) ? "PNG" : "JPEG") + ": "
                                                + (reason ? reason : "unknown decoder error")));
    }
    RgbImage img;
    img.width = w;
    img.height = h;
    img.pixels.resize(size_t(w) * size_t(h) * 3);
    const stbi_uc* src = rgba.get();
    for (size_t i = 0, n = size_t(w) * size_t(h); i < n; ++i) {
        const int a = src[i * 4 + 3];
        for (int c = 0; c < 3; ++c)
            img.pixels[i * 3 + size_t(c)] = div255(src[i * 4 + size_t(c)] * a + 255 * (255 - a));
    }
    return img;
}

ResizedSize smartResize(int64_t height, int64_t width, int64_t factor, int64_t minPixels, int64_t maxPixels)
{
    if (height <= 0 || width <= 0 || factor <= 0)
        throw InputError(describe("", "", "image size " + std::to_string(height) + "x" + std::to_string(width)
                                          + " is empty (expected positive height and width)"));
    const double h = double(height), w = double(width);
    const double ratio = std::max(h, w) / std::min(h, w);
    if (ratio > 200.0)
        throw InputError(describe("", "", "image size " + std::to_string(height) + "x" + std::to_string(width)
                                          + " has aspect ratio " + std::to_string(ratio)
                                          + " (expected at most 200)"));
    // As current transformers (image_processing_qwen2_vl.smart_resize): a side under factor / 2
    // rounds to 0, and the product 0 then takes the min_pixels branch (10x1000 -> 28x560);
    // qwen-omni-utils' copy clamps each side to factor first (28x1008).
    int64_t hBar = roundByFactor(h, factor);
    int64_t wBar = roundByFactor(w, factor);
    const double f = double(factor);
    // The floating-point order of operations follows the Python so that borderline sizes agree.
    if (hBar * wBar > maxPixels) {
        const double beta = std::sqrt((h * w) / double(maxPixels));
        hBar = std::max(factor, int64_t(std::floor(h / beta / f)) * factor);
        wBar = std::max(factor, int64_t(std::floor(w / beta / f)) * factor);
    } else if (hBar * wBar < minPixels) {
        const double beta = std::sqrt(double(minPixels) / (h * w));
        hBar = int64_t(std::ceil(h * beta / f)) * factor;
        wBar = int64_t(std::ceil(w * beta / f)) * factor;
    }
    return {hBar, wBar};
}

RgbImage resizeBicubic(const RgbImage& image, int height, int width)
{
    if (height <= 0 || width <= 0 || image.width <= 0 || image.height <= 0)
        throw InputError(describe("", "", "bicubic resize from " + std::to_string(image.height) + "x"
                                          + std::to_string(image.width) + " to " + std::to_string(height) + "x"
                                          + std::to_string(width) + " (expected positive sizes)"));
    // PIL skips an axis whose size does not change, which makes an identity resize exact.
    RgbImage out = width != image.width ? resampleAxis(image, width, true) : image;
    if (height != image.height)
        out = resampleAxis(out, height, false);
    return out;
}

at::Tensor normalizeImage(const RgbImage& image)
{
    const int64_t h = image.height, w = image.width;
    at::Tensor out = at::empty({3, h, w}, at::kFloat);
    float* dst = out.data_ptr<float>();
    for (int c = 0; c < 3; ++c) {
        // A 256-entry table: the same doubles for every pixel, and no per-pixel division.
        float lut[256];
        for (int v = 0; v < 256; ++v)
            lut[v] = float((v / 255.0 - kClipMean[c]) / kClipStd[c]);
        float* plane = dst + c * h * w;
        for (int64_t i = 0; i < h * w; ++i)
            plane[i] = lut[image.pixels[size_t(i) * 3 + size_t(c)]];
    }
    return out;
}

VisionPatches patchify(const std::vector<at::Tensor>& frames, int64_t temporalPatch, int64_t patch, int64_t merge)
{
    if (frames.empty())
        throw InputError(describe("", "", "patchify got no frames (expected at least one [3, H, W] frame)"));
    const at::Tensor& first = frames.front();
    if (first.dim() != 3)
        throw InputError(describe("", "", "patchify frame has " + std::to_string(first.dim())
                                          + " dimensions (expected [C, H, W])"));
    const int64_t c = first.size(0), h = first.size(1), w = first.size(2);
    const int64_t unit = patch * merge;
    if (h % unit != 0 || w % unit != 0)
        throw InputError(describe("", "", "frame size " + std::to_string(h) + "x" + std::to_string(w)
                                          + " is not a multiple of " + std::to_string(unit) + " (run smartResize first)"));
    std::vector<at::Tensor> stack;
    for (size_t i = 0; i < frames.size(); ++i) {
        if (frames[i].sizes() != first.sizes())
            throw InputError(describe("", "", "frame " + std::to_string(i) + " differs in shape from frame 0"));
        stack.push_back(frames[i].to(at::kFloat));
    }
    // Qwen2VLImageProcessor pads with copies of the last frame; a still image becomes 2 frames.
    while (int64_t(stack.size()) % temporalPatch != 0)
        stack.push_back(stack.back());

    const int64_t gridT = int64_t(stack.size()) / temporalPatch;
    const int64_t gridH = h / patch, gridW = w / patch;
    // The processor's reshape + transpose(0, 3, 6, 4, 7, 2, 1, 5, 8), verbatim.
    at::Tensor p = at::stack(stack, 0).reshape(
        {gridT, temporalPatch, c, gridH / merge, merge, patch, gridW / merge, merge, patch});
    p = p.permute({0, 3, 6, 4, 7, 2, 1, 5, 8}).contiguous();
    VisionPatches out;
    out.patches = p.reshape({gridT * gridH * gridW, c * temporalPatch * patch * patch});
    out.gridT = gridT;
    out.gridH = gridH;
    out.gridW = gridW;
    return out;
}

namespace {

at::Tensor preparedFrame(const RgbImage& img, ResizedSize size)
{
    return normalizeImage(resizeBicubic(img, int(size.height), int(size.width)));
}

} // namespace

VisionPatches imagePatches(const std::string& path, int64_t minPixels, int64_t maxPixels)
{
    const RgbImage img = loadImage(path);
    ResizedSize size;
    try {
        size = smartResize(img.height, img.width, kImageFactor, minPixels, maxPixels);
    } catch (const InputError& e) {
        throw InputError(describe(path, "", e.what()));
    }
    return patchify({preparedFrame(img, size)});
}

std::vector<std::string> videoFrames(const std::string& dir)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw InputError(describe(dir, "", "video frame folder not found (expected a folder of PNG/JPEG frames)"));
    std::vector<std::string> names;
    for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_regular_file(ec))
            continue;
        std::string ext = e.path().extension().string();
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
        if (ext == ".png" || ext == ".jpg" || ext == ".jpeg")
            names.push_back(e.path().filename().string());
    }
    if (ec)
        throw InputError(describe(dir, "", "cannot list the video frame folder: " + ec.message()));
    if (names.empty())
        throw InputError(describe(dir, "", "no frames found (expected *.png, *.jpg or *.jpeg files)"));
    std::sort(names.begin(), names.end());
    std::vector<std::string> paths;
    for (const std::string& n : names)
        paths.push_back((fs::path(dir) / n).string());
    return paths;
}

VisionPatches videoPatches(const std::vector<std::string>& framePaths, int64_t minPixels, int64_t maxPixels)
{
    if (framePaths.empty())
        throw InputError(describe("", "", "video has no frames (expected at least one frame image)"));
    std::vector<at::Tensor> frames;
    int firstW = 0, firstH = 0;
    ResizedSize size;
    for (const std::string& path : framePaths) {
        const RgbImage img = loadImage(path);
        if (frames.empty()) {
            firstW = img.width;
            firstH = img.height;
            try {
                size = smartResize(img.height, img.width, kImageFactor, minPixels, maxPixels);
            } catch (const InputError& e) {
                throw InputError(describe(path, "", e.what()));
            }
        } else if (img.width != firstW || img.height != firstH) {
            throw InputError(describe(path, "", "frame is " + std::to_string(img.width) + "x"
                                                + std::to_string(img.height) + " (expected " + std::to_string(firstW)
                                                + "x" + std::to_string(firstH) + " like the first frame)"));
        }
        frames.push_back(preparedFrame(img, size));
    }
    return patchify(frames);
}

VisionPatches videoPatches(const std::vector<RgbImage>& images, const std::string& source, int64_t minPixels,
                           int64_t maxPixels)
{
    if (images.empty())
        throw InputError(describe(source, "", "video has no frames (expected at least one)"));
    ResizedSize size;
    try {
        size = smartResize(images.front().height, images.front().width, kImageFactor, minPixels, maxPixels);
    } catch (const InputError& e) {
        throw InputError(describe(source, "", e.what()));
    }
    std::vector<at::Tensor> frames;
    frames.reserve(images.size());
    for (const RgbImage& img : images) {
        if (img.width != images.front().width || img.height != images.front().height)
            throw InputError(describe(source, "", "frames of different sizes (" + std::to_string(img.width) + "x"
                                                      + std::to_string(img.height) + " after "
                                                      + std::to_string(images.front().width) + "x"
                                                      + std::to_string(images.front().height) + ")"));
        frames.push_back(preparedFrame(img, size));
    }
    return patchify(frames);
}

std::vector<int64_t> sampleFrameIndices(int64_t totalFrames, double videoFps, double fps, int64_t minFrames,
                                        int64_t maxFrames, int64_t temporalPatch)
{
    if (!(videoFps > 0.0) || !(fps > 0.0) || !std::isfinite(videoFps) || !std::isfinite(fps))
        throw InputError(describe("", "", "video frame rate " + std::to_string(videoFps) + " or sampling rate "
                                              + std::to_string(fps) + " is not a positive number"));
    // transformers Qwen2VLVideoProcessor.sample_frames with fps given (the Omni processor's path).
    const double cap = std::floor(double(std::min(maxFrames, totalFrames)) / double(temporalPatch)) * double(temporalPatch);
    double n = double(totalFrames) / videoFps * fps;
    n = std::min({std::max(n, double(minFrames)), cap, double(totalFrames)});
    const int64_t count = int64_t(std::floor(n / double(temporalPatch))) * temporalPatch;
    if (count <= 0 || count > totalFrames)
        throw InputError(describe("", "", "video of " + std::to_string(totalFrames) + " frame(s) cannot be sampled: "
                                              "the vision tower needs at least " + std::to_string(temporalPatch)
                                              + " frames"));
    // torch.arange(0, total, total / count).int(): the size ceil(total / step) in double, each
    // value step * i rounded to float32 (the default dtype), then truncated.
    const double step = double(totalFrames) / double(count);
    const int64_t size = int64_t(std::ceil(double(totalFrames) / step));
    std::vector<int64_t> out;
    out.reserve(size_t(size));
    for (int64_t i = 0; i < size; ++i)
        out.push_back(int64_t(float(step * double(i))));
    return out;
}

} // namespace mq::core
