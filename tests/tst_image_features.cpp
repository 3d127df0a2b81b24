// Image and video input for the vision encoder: smart_resize, PIL bicubic, CLIP normalization,
// the processor's patch-row order, and PNG/JPEG decoding. Expected numbers are worked by hand
// from QWEN25_OMNI.md §3-§4; the *_pil_bicubic.png goldens were written by Pillow 9.4.0
// (Image.resize(size, BICUBIC) of rose_64x48.png), the same uint8 path the HF processor takes.
// ATen before QtTest: Qt's `slots` macro breaks ATen's IValue::slots() otherwise.
#include "common/error.h"
#include "model/image_features.h"

#include <QtTest/QtTest>

#include "test_util.h"

#include <cmath>
#include <string>

using namespace mq::core;

namespace {

std::string imagePath(const char* name) { return std::string(MQ_TEST_DATA_DIR) + "/images/" + name; }

RgbImage constantImage(int h, int w, uint8_t r, uint8_t g, uint8_t b)
{
    RgbImage img;
    img.width = w;
    img.height = h;
    img.pixels.resize(size_t(w) * size_t(h) * 3);
    for (size_t i = 0; i < size_t(w) * size_t(h); ++i) {
        img.pixels[i * 3] = r;
        img.pixels[i * 3 + 1] = g;
        img.pixels[i * 3 + 2] = b;
    }
    return img;
}

int maxAbsDiff(const RgbImage& a, const RgbImage& b)
{
    int d = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i)
        d = std::max(d, std::abs(int(a.pixels[i]) - int(b.pixels[i])));
    return d;
}

} // namespace

class TestImageFeatures : public QObject {
    Q_OBJECT
private slots:
    void smartResizeTable_data();
    void smartResizeTable();
    void smartResizeAspectError_data();
    void smartResizeAspectError();
    void videoProcessorSizes();

    void normalizeConstant_data();
    void normalizeConstant();

    void patchifyLayout();
    void patchifyVideoPadsOddFrames();
    void patchifyRejectsBadSize();

    void bicubicIdentity();
    void bicubicConstant_data();
    void bicubicConstant();
    void bicubicMatchesPil_data();
    void bicubicMatchesPil();

    void loadPng();
    void loadJpeg();
    void loadRgbaOnWhite();
    void loadGrey();
    void loadErrors_data();
    void loadErrors();

    void imagePatchesEndToEnd();
    void videoFolder();
    void videoErrors();
    void emptyIdatChunk();
};

void TestImageFeatures::smartResizeTable_data()
{
    QTest::addColumn<qint64>("h");
    QTest::addColumn<qint64>("w");
    QTest::addColumn<qint64>("eh");
    QTest::addColumn<qint64>("ew");
    // 100/28 = 3.57 -> 4 -> 112; 112^2 = 12544 is within bounds.
    QTest::newRow("100x100") << qint64(100) << qint64(100) << qint64(112) << qint64(112);
    // 28^2 = 784 < 3136: beta = sqrt(3136/784) = 2, ceil(28*2/28) = 2 -> 56.
    QTest::newRow("28x28 min_pixels") << qint64(28) << qint64(28) << qint64(56) << qint64(56);
    // 70/28 = 2.5 rounds half to even -> 2 -> 56 (not 84); 56^2 = 3136 is not below the minimum.
    QTest::newRow("70x70 half-even down") << qint64(70) << qint64(70) << qint64(56) << qint64(56);
    // 98/28 = 3.5 rounds half to even -> 4 -> 112.
    QTest::newRow("98x98 half-even up") << qint64(98) << qint64(98) << qint64(112) << qint64(112);
    // 48/28 = 1.71 -> 2, 64/28 = 2.29 -> 2: 56x56 = 3136, exactly the minimum.
    QTest::newRow("48x64 rose") << qint64(48) << qint64(64) << qint64(56) << qint64(56);
    // As current transformers: 10/28 rounds to 0 (no clamp to 28), so 0 * 1008 < 3136 takes the
    // min_pixels branch: beta = sqrt(3136/10000) = 0.56, ceil(5.6/28) = 1 -> 28, ceil(560/28) =
    // 20 -> 560 (qwen-omni-utils' clamped copy gives 28x1008).
    QTest::newRow("10x1000 no clamp") << qint64(10) << qint64(1000) << qint64(28) << qint64(560);
    // 28x28 = 784 < 3136: beta = sqrt(3136/600) = 2.286; 45.7/28 -> 2, 68.6/28 -> 3.
    QTest::newRow("20x30 ceil") << qint64(20) << qint64(30) << qint64(56) << qint64(84);
    // beta = sqrt(3136/100) = 5.6; 10*5.6/28 = 2 (must not become 3 through rounding noise).
    QTest::newRow("10x10 ceil exact") << qint64(10) << qint64(10) << qint64(56) << qint64(56);
    // 1080/28 = 38.6 -> 39, 1920/28 = 68.6 -> 69.
    QTest::newRow("1080x1920") << qint64(1080) << qint64(1920) << qint64(1092) << qint64(1932);
    // 8008*5992 > 12845056 = 3584^2: beta = sqrt(48e6)/3584 = 1.9331;
    // 8000/beta/28 = 147.8 -> 147*28 = 4116, 6000/beta/28 = 110.9 -> 110*28 = 3080.
    QTest::newRow("8000x6000 floor") << qint64(8000) << qint64(6000) << qint64(4116) << qint64(3080);
    // 4004^2 > max: beta = 4000/3584, so 4000/beta/28 = 128 exactly (Python agrees: 3584).
    QTest::newRow("4000x4000 floor exact") << qint64(4000) << qint64(4000) << qint64(3584) << qint64(3584);
    QTest::newRow("3584x3584 at max") << qint64(3584) << qint64(3584) << qint64(3584) << qint64(3584);
    // Aspect exactly 200 is allowed: 1 rounds to 0, so the min_pixels branch: beta =
    // sqrt(3136/200) = 3.9598, ceil(0.141) = 1 -> 28, ceil(28.28) = 29 -> 812.
    QTest::newRow("1x200 ratio 200") << qint64(1) << qint64(200) << qint64(28) << qint64(812);
}

void TestImageFeatures::smartResizeTable()
{
    QFETCH(qint64, h);
    QFETCH(qint64, w);
    QFETCH(qint64, eh);
    QFETCH(qint64, ew);
    const ResizedSize s = smartResize(h, w);
    QCOMPARE(qint64(s.height), eh);
    QCOMPARE(qint64(s.width), ew);
}

void TestImageFeatures::smartResizeAspectError_data()
{
    QTest::addColumn<qint64>("h");
    QTest::addColumn<qint64>("w");
    QTest::newRow("28x5656 ratio 202") << qint64(28) << qint64(5656);
    QTest::newRow("201x1 ratio 201") << qint64(201) << qint64(1);
    QTest::newRow("zero side") << qint64(0) << qint64(10);
}

void TestImageFeatures::smartResizeAspectError()
{
    QFETCH(qint64, h);
    QFETCH(qint64, w);
    expectInputError([&] { smartResize(h, w); }, "expected");
}

void TestImageFeatures::normalizeConstant_data()
{
    QTest::addColumn<int>("r");
    QTest::addColumn<int>("g");
    QTest::addColumn<int>("b");
    QTest::addColumn<double>("er");
    QTest::addColumn<double>("eg");
    QTest::addColumn<double>("eb");
    // (1 - 0.48145466)/0.26862954 = 1.9303363; (128/255 - 0.4578275)/0.26130258 = 0.1688972;
    // (0 - 0.40821073)/0.27577711 = -1.4802198.
    QTest::newRow("255,128,0") << 255 << 128 << 0 << 1.9303363 << 0.1688972 << -1.4802198;
    // -0.48145466/0.26862954 = -1.7922625; -0.4578275/0.26130258 = -1.7520971;
    // (1 - 0.40821073)/0.27577711 = 2.1458969.
    QTest::newRow("0,0,255") << 0 << 0 << 255 << -1.7922625 << -1.7520971 << 2.1458969;
}

void TestImageFeatures::normalizeConstant()
{
    QFETCH(int, r);
    QFETCH(int, g);
    QFETCH(int, b);
    QFETCH(double, er);
    QFETCH(double, eg);
    QFETCH(double, eb);
    const at::Tensor t = normalizeImage(constantImage(3, 5, uint8_t(r), uint8_t(g), uint8_t(b)));
    QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{3, 3, 5}));
    QCOMPARE(t.scalar_type(), at::kFloat);
    const double expected[3] = {er, eg, eb};
    // 1e-6: the hand values are rounded to 7 decimals, float32 holds ~7 significant digits.
    for (int c = 0; c < 3; ++c) {
        QVERIFY(std::fabs(t[c].min().item<double>() - expected[c]) < 1e-6);
        QVERIFY(std::fabs(t[c].max().item<double>() - expected[c]) < 1e-6);
    }
}

void TestImageFeatures::patchifyLayout()
{
    // value(c, y, x) = c*10000 + y*100 + x: exact in float32, so every element can be traced.
    const at::Tensor cc = at::arange(3, at::kFloat).view({3, 1, 1}) * 10000;
    const at::Tensor yy = at::arange(56, at::kFloat).view({1, 56, 1}) * 100;
    const at::Tensor xx = at::arange(56, at::kFloat).view({1, 1, 56});
    const at::Tensor frame = cc + yy + xx;
    const VisionPatches p = patchify({frame});
    QCOMPARE(p.gridT, int64_t(1));
    QCOMPARE(p.gridH, int64_t(4));
    QCOMPARE(p.gridW, int64_t(4));
    QCOMPARE(p.patches.sizes().vec(), (std::vector<int64_t>{16, 1176}));
    QCOMPARE(p.patches.scalar_type(), at::kFloat);

    const at::Tensor a = p.patches.contiguous();
    const float* v = a.data_ptr<float>();
    // Hand spot checks. Row 1 = merge unit (0,0), dy 0, dx 1: patch (0,1), first value x = 14.
    QCOMPARE(v[1 * 1176], 14.0f);
    // Row 2 = unit (0,0), dy 1, dx 0: patch (1,0), y = 14 -> 1400.
    QCOMPARE(v[2 * 1176], 1400.0f);
    // Row 4 = unit (0,1), dy 0, dx 0: patch (0,2), x = 28. (Raster order would have given patch (1,0).)
    QCOMPARE(v[4 * 1176], 28.0f);
    // Row 8 = unit (1,0): patch (2,0), y = 28 -> 2800.
    QCOMPARE(v[8 * 1176], 2800.0f);
    // Column 196 is temporal copy 1 of channel 0 (same frame), 392 is channel 1, 15 is (y 1, x 1).
    QCOMPARE(v[196], 0.0f);
    QCOMPARE(v[392], 10000.0f);
    QCOMPARE(v[15], 101.0f);

    // Every element against the documented order (t, h/2, w/2, dy, dx) x (c, t, y, x).
    for (int row = 0; row < 16; ++row) {
        const int unit = row / 4, dy = (row % 4) / 2, dx = row % 2;
        const int py = (unit / 2) * 2 + dy, px = (unit % 2) * 2 + dx;
        for (int k = 0; k < 1176; ++k) {
            const int c = k / 392, y = (k / 14) % 14, x = k % 14;
            const float want = float(c * 10000 + (py * 14 + y) * 100 + px * 14 + x);
            if (v[row * 1176 + k] != want)
                QFAIL(qPrintable(QString("row %1 col %2: %3 != %4").arg(row).arg(k).arg(v[row * 1176 + k]).arg(want)));
        }
    }
}

void TestImageFeatures::patchifyVideoPadsOddFrames()
{
    std::vector<at::Tensor> frames;
    for (int i = 0; i < 3; ++i)
        frames.push_back(at::full({3, 28, 56}, float(i), at::kFloat));
    const VisionPatches p = patchify(frames);
    QCOMPARE(p.gridT, int64_t(2));
    QCOMPARE(p.gridH, int64_t(2));
    QCOMPARE(p.gridW, int64_t(4));
    QCOMPARE(p.patches.size(0), int64_t(16));
    // t = 0 rows hold frames 0 and 1 in their temporal halves; t = 1 rows hold frame 2 twice.
    QCOMPARE(p.patches[0][0].item<float>(), 0.0f);
    QCOMPARE(p.patches[0][196].item<float>(), 1.0f);
    QCOMPARE(p.patches[8][0].item<float>(), 2.0f);
    QCOMPARE(p.patches[8][196].item<float>(), 2.0f);
}

void TestImageFeatures::patchifyRejectsBadSize()
{
    expectInputError([] { patchify({at::zeros({3, 42, 56})}); }, "multiple of 28");
    expectInputError([] { patchify({}); }, "no frames");
    expectInputError([] { patchify({at::zeros({3, 28, 28}), at::zeros({3, 56, 28})}); }, "frame 1");
}

void TestImageFeatures::bicubicIdentity()
{
    const RgbImage img = loadImage(imagePath("rose_64x48.png"));
    const RgbImage same = resizeBicubic(img, img.height, img.width);
    QCOMPARE(same.width, img.width);
    QCOMPARE(same.height, img.height);
    QVERIFY(same.pixels == img.pixels);
}

void TestImageFeatures::bicubicConstant_data()
{
    QTest::addColumn<int>("h");
    QTest::addColumn<int>("w");
    QTest::newRow("up 56x84") << 56 << 84;
    QTest::newRow("down 7x5 (antialias)") << 7 << 5;
    QTest::newRow("width only 30x13") << 30 << 13;
}

void TestImageFeatures::bicubicConstant()
{
    QFETCH(int, h);
    QFETCH(int, w);
    const RgbImage img = constantImage(30, 40, 200, 17, 255);
    const RgbImage out = resizeBicubic(img, h, w);
    QCOMPARE(out.height, h);
    QCOMPARE(out.width, w);
    // Exact: normalized fixed-point weights sum to 2^22 within a few units, which the 2^21
    // rounding offset absorbs.
    QVERIFY(maxAbsDiff(out, constantImage(h, w, 200, 17, 255)) == 0);
}

void TestImageFeatures::bicubicMatchesPil_data()
{
    QTest::addColumn<QString>("golden");
    QTest::addColumn<int>("h");
    QTest::addColumn<int>("w");
    QTest::newRow("56x56 (smart size of rose)") << "rose_56x56_pil_bicubic.png" << 56 << 56;
    QTest::newRow("28x21 downscale") << "rose_28x21_pil_bicubic.png" << 21 << 28;
    QTest::newRow("112x84 upscale") << "rose_112x84_pil_bicubic.png" << 84 << 112;
    QTest::newRow("64x30 vertical only") << "rose_64x30_pil_bicubic.png" << 30 << 64;
}

void TestImageFeatures::bicubicMatchesPil()
{
    QFETCH(QString, golden);
    QFETCH(int, h);
    QFETCH(int, w);
    const RgbImage out = resizeBicubic(loadImage(imagePath("rose_64x48.png")), h, w);
    const RgbImage want = loadImage(imagePath(golden.toStdString().c_str()));
    QCOMPARE(out.width, want.width);
    QCOMPARE(out.height, want.height);
    // Bit-exact: the same integer arithmetic as Pillow's ImagingResample.
    QCOMPARE(maxAbsDiff(out, want), 0);
}

void TestImageFeatures::loadPng()
{
    const RgbImage img = loadImage(imagePath("rose_64x48.png"));
    QCOMPARE(img.width, 64);
    QCOMPARE(img.height, 48);
    QCOMPARE(img.pixels.size(), size_t(64 * 48 * 3));
    // Values read with Pillow: (x, y) -> RGB.
    QCOMPARE(int(img.at(0, 0, 0)), 47);
    QCOMPARE(int(img.at(0, 0, 1)), 47);
    QCOMPARE(int(img.at(0, 0, 2)), 45);
    QCOMPARE(int(img.at(24, 32, 0)), 245);
    QCOMPARE(int(img.at(24, 32, 1)), 45);
    QCOMPARE(int(img.at(24, 32, 2)), 54);
    QCOMPARE(int(img.at(47, 63, 0)), 53);
    QCOMPARE(int(img.at(47, 63, 1)), 68);
    QCOMPARE(int(img.at(47, 63, 2)), 50);
}

void TestImageFeatures::loadJpeg()
{
    const RgbImage img = loadImage(imagePath("rose_64x48.jpg"));
    QCOMPARE(img.width, 64);
    QCOMPARE(img.height, 48);
    // Pillow (libjpeg-turbo) decodes these pixels as below; stb_image's IDCT may differ by a
    // unit or two, so 3 levels of tolerance.
    struct P { int y, x, r, g, b; };
    const P want[] = {{0, 0, 51, 47, 46}, {24, 32, 249, 43, 53}, {47, 63, 52, 72, 45}, {40, 10, 180, 191, 193}};
    for (const P& p : want) {
        QVERIFY(std::abs(int(img.at(p.y, p.x, 0)) - p.r) <= 3);
        QVERIFY(std::abs(int(img.at(p.y, p.x, 1)) - p.g) <= 3);
        QVERIFY(std::abs(int(img.at(p.y, p.x, 2)) - p.b) <= 3);
    }
}

void TestImageFeatures::loadRgbaOnWhite()
{
    // rgba(255, 0, 0, alpha 127) on white: red 255; green and blue round(255*128/255) = 128.
    const RgbImage img = loadImage(imagePath("rgba_half_red.png"));
    QCOMPARE(img.width, 4);
    QCOMPARE(img.height, 3);
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 4; ++x) {
            QCOMPARE(int(img.at(y, x, 0)), 255);
            QCOMPARE(int(img.at(y, x, 1)), 128);
            QCOMPARE(int(img.at(y, x, 2)), 128);
        }
}

void TestImageFeatures::loadGrey()
{
    const RgbImage img = loadImage(imagePath("grey_100.png"));
    QCOMPARE(img.width, 5);
    QCOMPARE(img.height, 4);
    for (uint8_t v : img.pixels)
        QCOMPARE(int(v), 100);
}

void TestImageFeatures::loadErrors_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("reason");
    QTest::newRow("missing") << "no_such_image.png" << "not found";
    QTest::newRow("truncated png") << "truncated.png" << "cannot decode PNG";
    QTest::newRow("truncated jpeg") << "truncated.jpg" << "cannot decode JPEG";
    QTest::newRow("not png/jpeg") << "not_image.gif.png" << "unsupported image format";
    // A DHT whose code counts sum past 256: Debian's stb_image would write past its table
    // (found by fuzz_image); refused before the decoder sees it.
    QTest::newRow("bad huffman table") << "bad_huffman.jpg" << "Huffman table";
    // A header declaring 6720 x 65535 pixels (440 M; found by fuzz_image as a decode of minutes).
    QTest::newRow("huge declared size") << "huge_declared.jpg" << "6720 x 65535";
}

void TestImageFeatures::loadErrors()
{
    QFETCH(QString, name);
    QFETCH(QString, reason);
    const std::string path = imagePath(name.toStdString().c_str());
    expectInputError([&] { loadImage(path); }, path);
    expectInputError([&] { loadImage(path); }, reason.toStdString());
}

void TestImageFeatures::imagePatchesEndToEnd()
{
    // rose 64x48 -> smart size 56x56 -> 4x4 patches, 16 rows.
    const VisionPatches p = imagePatches(imagePath("rose_64x48.png"));
    QCOMPARE(p.gridT, int64_t(1));
    QCOMPARE(p.gridH, int64_t(4));
    QCOMPARE(p.gridW, int64_t(4));
    QCOMPARE(p.patches.sizes().vec(), (std::vector<int64_t>{16, 1176}));
    // Row 0, column 0 is pixel (0,0) red of the PIL-resized image, normalized.
    const RgbImage resized = loadImage(imagePath("rose_56x56_pil_bicubic.png"));
    const double want = (resized.at(0, 0, 0) / 255.0 - kClipMean[0]) / kClipStd[0];
    QVERIFY(std::fabs(p.patches[0][0].item<double>() - want) < 1e-6);
    // The two temporal copies of a still image are identical.
    QVERIFY(at::equal(p.patches.view({16, 3, 2, 196}).select(2, 0), p.patches.view({16, 3, 2, 196}).select(2, 1)));
}

void TestImageFeatures::videoFolder()
{
    const std::string dir = imagePath("video");
    const std::vector<std::string> frames = videoFrames(dir);
    QCOMPARE(frames.size(), size_t(3)); // notes.txt is skipped
    QVERIFY(frames[0].size() > 13 && frames[0].substr(frames[0].size() - 13) == "frame_000.png");
    QVERIFY(frames[1].substr(frames[1].size() - 13) == "frame_001.jpg");
    QVERIFY(frames[2].substr(frames[2].size() - 13) == "frame_002.png");

    // 30x40 frames, video bounds (128*28^2 = 100352 .. 768*28^2): 28x28 = 784 is below the
    // minimum, beta = sqrt(100352/1200) = 9.1448, ceil(9.80) = 10 -> 280, ceil(13.06) = 14 -> 392:
    // a 20 x 28 patch grid. Three frames: the third is repeated, gridT = 2.
    const VisionPatches p = videoPatches(frames);
    QCOMPARE(p.gridT, int64_t(2));
    QCOMPARE(p.gridH, int64_t(20));
    QCOMPARE(p.gridW, int64_t(28));
    QCOMPARE(p.patches.size(0), int64_t(2 * 20 * 28));
    // Frame 0 black, frame 1 white, frame 2 red; red channel of row 0 t0/t1, then of row 560 (t = 1).
    const double black = (0.0 - kClipMean[0]) / kClipStd[0];
    const double white = (1.0 - kClipMean[0]) / kClipStd[0];
    QVERIFY(std::fabs(p.patches[0][0].item<double>() - black) < 1e-6);
    QVERIFY(std::fabs(p.patches[0][196].item<double>() - white) < 1e-6);
    QVERIFY(std::fabs(p.patches[560][0].item<double>() - white) < 1e-6);
    QVERIFY(std::fabs(p.patches[560][196].item<double>() - white) < 1e-6);
    // Green of frame 2 (red) is black-level.
    QVERIFY(std::fabs(p.patches[560][392].item<double>() - (0.0 - kClipMean[1]) / kClipStd[1]) < 1e-6);
}

// Video frame sizes and frame sampling as transformers' Qwen2VLVideoProcessor (the Omni
// processor's video processor), derived by hand.
void TestImageFeatures::videoProcessorSizes()
{
    // 224x224: 224^2 = 50176 < 100352, beta = sqrt(2), ceil(224 * 1.41421 / 28) = ceil(11.31) = 12
    // -> 336x336, a 24 x 24 grid (the image bounds would keep 224: 16 x 16).
    ResizedSize s = smartResize(224, 224, 28, kVideoMinPixels, kVideoMaxPixels);
    QCOMPARE(s.height, int64_t(336));
    QCOMPARE(s.width, int64_t(336));
    // 720x1280: rounds to 728 x 1288 = 937664 > 602112, beta = sqrt(921600/602112) = 1.23718,
    // floor(720/1.23718/28) = floor(20.79) = 20 -> 560, floor(1280/1.23718/28) = floor(36.95) = 36
    // -> 1008: a 40 x 72 grid (52 x 92 with the image bounds).
    s = smartResize(720, 1280, 28, kVideoMinPixels, kVideoMaxPixels);
    QCOMPARE(s.height, int64_t(560));
    QCOMPARE(s.width, int64_t(1008));
    // Decoded frames go the same way: two 224x224 frames give one 24 x 24 slice.
    RgbImage f;
    f.width = f.height = 224;
    f.pixels.assign(size_t(224 * 224 * 3), 128);
    const VisionPatches p = videoPatches(std::vector<RgbImage>{f, f}, "frames");
    QCOMPARE(p.gridT, int64_t(1));
    QCOMPARE(p.gridH, int64_t(24));
    QCOMPARE(p.gridW, int64_t(24));

    // Frame sampling at fps 2: n = total / video_fps * 2, clamped to [4, min(768, total) floored to
    // even], floored to even; indices int(arange(0, total, total / n)).
    // 30 frames at 10 fps: n = 6, step 5.
    QCOMPARE(sampleFrameIndices(30, 10.0, 2.0), (std::vector<int64_t>{0, 5, 10, 15, 20, 25}));
    // 25 frames at 10 fps: n = 5 -> 4 (even), step 6.25 -> 0, 6, 12, 18.
    QCOMPARE(sampleFrameIndices(25, 10.0, 2.0), (std::vector<int64_t>{0, 6, 12, 18}));
    // 7 frames at 30 fps: n = 0.47 -> the minimum 4, step 1.75 -> 0, 1, 3, 5.
    QCOMPARE(sampleFrameIndices(7, 30.0, 2.0), (std::vector<int64_t>{0, 1, 3, 5}));
    // 3 frames: min(max(0.2, 4), 2, 3) = 2 -> 0, 1 (step 1.5: 0, 1.5 -> 1).
    QCOMPARE(sampleFrameIndices(3, 30.0, 2.0), (std::vector<int64_t>{0, 1}));
    // An hour at 30 fps: capped at 768 frames, step 140.625.
    const std::vector<int64_t> hour = sampleFrameIndices(108000, 30.0, 2.0);
    QCOMPARE(hour.size(), size_t(768));
    QCOMPARE(hour[1], int64_t(140));
    QCOMPARE(hour.back(), int64_t(107859)); // 767 * 140.625 = 107859.375
    // One frame cannot fill a temporal patch; a non-positive rate is refused.
    expectInputError([] { sampleFrameIndices(1, 30.0, 2.0); }, "at least 2 frames");
    expectInputError([] { sampleFrameIndices(30, 0.0, 2.0); }, "not a positive number");
}

// A zero-length IDAT chunk before the image data (legal PNG; stb_image handed it to memcpy with
// a null destination, undefined behaviour the fuzzer found): the same pixels as without it.
void TestImageFeatures::emptyIdatChunk()
{
    QFile in(QString::fromStdString(imagePath("grey_100.png")));
    QVERIFY(in.open(QIODevice::ReadOnly));
    const QByteArray png = in.readAll();
    const int idat = png.indexOf("IDAT") - 4; // the chunk's length field
    QVERIFY(idat > 8);
    const QByteArray empty = QByteArray::fromHex("0000000049444154" "35af061e"); // length 0, "IDAT", CRC
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("empty_idat.png"));
    QFile out(path);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(png.left(idat) + empty + png.mid(idat));
    out.close();
    const RgbImage a = loadImage(imagePath("grey_100.png")), b = loadImage(path.toStdString());
    QCOMPARE(b.width, a.width);
    QCOMPARE(b.height, a.height);
    QVERIFY(b.pixels == a.pixels);
}

void TestImageFeatures::videoErrors()
{
    expectInputError([] { videoFrames(imagePath("no_such_dir")); }, imagePath("no_such_dir"));
    // A folder with no frames: tests/data/images holds only image files at the top, so use a
    // fresh temporary folder.
    QTemporaryDir empty;
    QVERIFY(empty.isValid());
    expectInputError([&] { videoFrames(empty.path().toStdString()); }, "no frames");
    // Frames of different sizes cannot be stacked; the message names the odd frame.
    const std::string odd = imagePath("grey_100.png");
    expectInputError([&] { videoPatches({imagePath("rose_64x48.png"), odd}); }, odd);
}

QTEST_APPLESS_MAIN(TestImageFeatures)
#include "tst_image_features.moc"
