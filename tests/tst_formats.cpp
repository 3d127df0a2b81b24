// The formats of quant/formats.h against every worked example of ../shared/FORMATS.md, bit for
// bit, and round trips over every code.
#include <ATen/ATen.h>

#include "test_util.h"

#include "common/error.h"
#include "quant/formats.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mq::core;
using namespace mq::core::fmt;

namespace {

std::vector<float> padded(std::initializer_list<float> head, size_t n)
{
    std::vector<float> v(head);
    v.resize(n, 0.f);
    return v;
}

} // namespace

class TestFormats : public QObject {
    Q_OBJECT

private slots:
    // FORMATS.md section 2, E2M1: 0.25 -> 0x0, 0.3 -> 0x1, 1.25 -> 0x2, 1.75 -> 0x4, 2.6 -> 0x5,
    // 5.0 -> 0x6, 7.0 -> 0x7, -0.75 -> 0xA, -2.9 -> 0xD; and the ties of the rule list.
    void e2m1WorkedExample()
    {
        const std::pair<float, uint8_t> ex[] = {{0.25f, 0x0}, {0.3f, 0x1}, {1.25f, 0x2}, {1.75f, 0x4},
                                                {2.6f, 0x5},  {5.0f, 0x6}, {7.0f, 0x7},  {-0.75f, 0xA},
                                                {-2.9f, 0xD}, {0.75f, 0x2}, {3.5f, 0x6}, {2.5f, 0x4}};
        for (const auto& [x, c] : ex)
            QVERIFY2(e2m1Encode(x) == c, qPrintable(QString("%1 -> %2").arg(x).arg(e2m1Encode(x))));
        for (int c = 0; c < 16; ++c)
            if (c != 8) // -0 encodes as 8 again, decodes as -0
                QCOMPARE(int(e2m1Encode(e2m1Decode(uint8_t(c)))), c);
        QCOMPARE(e2m1Decode(0xD), -3.0f);
    }

    // E4M3: every finite code round-trips; 112 -> 0x6E, 37.33 -> 0x61 (= 36), saturation at 448,
    // NaN 0x7F.
    void e4m3Codes()
    {
        for (int c = 0; c < 256; ++c) {
            if ((c & 0x7F) == 0x7F)
                continue;
            const float v = e4m3Decode(uint8_t(c));
            if (c == 0x80) // -0
                continue;
            QVERIFY2(e4m3Encode(v) == c, qPrintable(QString("code %1 value %2").arg(c).arg(v)));
        }
        QCOMPARE(int(e4m3Encode(112.f)), 0x6E);
        QCOMPARE(int(e4m3Encode(37.333332f)), 0x61);
        QCOMPARE(e4m3Decode(0x61), 36.f);
        QCOMPARE(int(e4m3Encode(1000.f)), 0x7E);
        QCOMPARE(e4m3Decode(0x7E), 448.f);
        QVERIFY(std::isnan(e4m3Decode(0x7F)));
        QCOMPARE(e4m3Decode(0x01), std::ldexp(1.f, -9));
    }

    // NVFP4, tensor amax 12 (g = 224): block [3.0, -1.3, 0.2, 0.6, 1.0, -0.125, 0...] -> scale
    // 0x6E (effective 0.5), codes 7, D, 1, 2, 4, 8, bytes D7 21 84 00; a block of amax 1.0 ->
    // 0x61 (36, effective 0.160714): 1.0 -> 0x7 (0.9642857), 0.4 -> 0x4, -0.9 -> 0xF.
    void nvfp4WorkedExample()
    {
        std::vector<float> x = padded({3.0f, -1.3f, 0.2f, 0.6f, 1.0f, -0.125f}, 16);
        std::vector<float> second = padded({1.0f, 0.4f, -0.9f}, 16);
        std::vector<float> third = padded({12.0f}, 16); // the tensor's amax
        x.insert(x.end(), second.begin(), second.end());
        x.insert(x.end(), third.begin(), third.end());
        const Nvfp4 q = nvfp4Quantize(x.data(), 1, 48);
        QCOMPARE(q.globalScale, 224.f);
        QCOMPARE(int(q.scales[0]), 0x6E);
        const uint8_t codes[] = {0x7, 0xD, 0x1, 0x2, 0x4, 0x8};
        for (int i = 0; i < 6; ++i)
            QCOMPARE(int(q.codes[size_t(i)]), int(codes[i]));
        const std::vector<uint8_t> bytes = packNibbles(std::vector<uint8_t>(q.codes.begin(), q.codes.begin() + 16));
        QCOMPARE(int(bytes[0]), 0xD7);
        QCOMPARE(int(bytes[1]), 0x21);
        QCOMPARE(int(bytes[2]), 0x84);
        QCOMPARE(int(bytes[3]), 0x00);
        QCOMPARE(int(q.scales[1]), 0x61);
        QCOMPARE(int(q.codes[16]), 0x7);
        QCOMPARE(int(q.codes[17]), 0x4);
        QCOMPARE(int(q.codes[18]), 0xF);
        std::vector<float> back(48);
        nvfp4Dequantize(q, back.data());
        const float expect[] = {3.0f, -1.5f, 0.25f, 0.5f, 1.0f, -0.0f};
        for (int i = 0; i < 6; ++i)
            QCOMPARE(back[size_t(i)], expect[i]);
        QVERIFY(std::fabs(back[16] - 0.9642857f) < 1e-6f); // 6 * 36 / 224 in float32
        QVERIFY(std::fabs(back[17] - 0.3214286f) < 1e-6f);
        QVERIFY_THROWS_EXCEPTION(InputError, nvfp4Quantize(x.data(), 1, 24));
    }

    // MXFP4 (floor rule): [5.0, 0.7, -2.2, 0.25] -> 0x7F, codes 6, 1, C, 0; [7.5, 1.0, -3.3, 0.1]
    // -> 0x7F, 7, 2, D, 0 (floor) and 0x80, 6, 1, B, 0 (even); [0.1, -0.03, 0.05] -> 0x79, 7, C, 5
    // (0.09375, -0.03125, 0.046875); an all-zero block -> 0x00; Inf -> 0xFF.
    void mxfp4WorkedExample()
    {
        auto block = [](std::initializer_list<float> v, MxRule rule) {
            const std::vector<float> x = padded(v, 32);
            return mxfp4Quantize(x.data(), 1, 32, rule);
        };
        Mxfp4 a = block({5.0f, 0.7f, -2.2f, 0.25f}, MxRule::Floor);
        QCOMPARE(int(a.scales[0]), 0x7F);
        QCOMPARE(std::vector<int>(a.codes.begin(), a.codes.begin() + 4), (std::vector<int>{6, 1, 0xC, 0}));
        Mxfp4 b = block({7.5f, 1.0f, -3.3f, 0.1f}, MxRule::Floor);
        QCOMPARE(int(b.scales[0]), 0x7F);
        QCOMPARE(std::vector<int>(b.codes.begin(), b.codes.begin() + 4), (std::vector<int>{7, 2, 0xD, 0}));
        Mxfp4 be = block({7.5f, 1.0f, -3.3f, 0.1f}, MxRule::Even);
        QCOMPARE(int(be.scales[0]), 0x80);
        QCOMPARE(std::vector<int>(be.codes.begin(), be.codes.begin() + 4), (std::vector<int>{6, 1, 0xB, 0}));
        std::vector<float> out(32);
        mxfp4Dequantize(be, out.data());
        QCOMPARE(out[0], 8.f);
        QCOMPARE(out[2], -3.f);
        Mxfp4 c = block({0.1f, -0.03f, 0.05f}, MxRule::Floor);
        QCOMPARE(int(c.scales[0]), 0x79);
        QCOMPARE(std::vector<int>(c.codes.begin(), c.codes.begin() + 3), (std::vector<int>{7, 0xC, 5}));
        mxfp4Dequantize(c, out.data());
        QCOMPARE(out[0], 0.09375f);
        QCOMPARE(out[1], -0.03125f);
        QCOMPARE(out[2], 0.046875f);
        QCOMPARE(int(block({}, MxRule::Floor).scales[0]), 0x00);
        QCOMPARE(int(block({std::numeric_limits<float>::infinity()}, MxRule::Floor).scales[0]), 0xFF);
    }

    // HiF8: 1.0 -> 0x08, 1.0625 -> 0x09 (1.125: ties away), 3.0 -> 0x14, -0.3 -> 0xB2 (-0.3125),
    // 0.125 -> 0x38, 100 -> 0x4A (96), 300 -> 0x60 (256), 15.9 -> 0x40 (16), 40000 -> 0x6E
    // (32768), 40960 -> 0x6F (+Inf), 3e-7 -> 0x01 (2^-22), 1e-8 -> 0x00; decode-then-encode is the
    // identity on all 255 non-NaN codes.
    void hif8WorkedExample()
    {
        const std::pair<float, uint8_t> ex[] = {{1.0f, 0x08},  {1.0625f, 0x09}, {3.0f, 0x14},   {-0.3f, 0xB2},
                                                {0.125f, 0x38}, {100.f, 0x4A},   {300.f, 0x60},  {15.9f, 0x40},
                                                {40000.f, 0x6E}, {40960.f, 0x6F}, {3e-7f, 0x01}, {1e-8f, 0x00}};
        for (const auto& [x, c] : ex)
            QVERIFY2(hif8Encode(x) == c, qPrintable(QString("%1 -> 0x%2").arg(x).arg(hif8Encode(x), 2, 16, QChar('0'))));
        QCOMPARE(hif8Decode(0x09), 1.125f);
        QCOMPARE(hif8Decode(0xB2), -0.3125f);
        QCOMPARE(hif8Decode(0x4A), 96.f);
        QCOMPARE(hif8Decode(0x60), 256.f);
        QCOMPARE(hif8Decode(0x6E), 32768.f);
        QVERIFY(std::isinf(hif8Decode(0x6F)));
        QCOMPARE(hif8Decode(0x01), std::ldexp(1.f, -22));
        QCOMPARE(hif8Decode(0x7E), std::ldexp(1.f, -15)); // the smallest normal
        QCOMPARE(int(hif8Encode(40960.f, true)), 0x6E);
        QVERIFY(std::isnan(hif8Decode(0x80)));
        int checked = 0;
        for (int c = 0; c < 256; ++c) {
            if (c == 0x80)
                continue;
            const float v = hif8Decode(uint8_t(c));
            QVERIFY2(hif8Encode(v) == c, qPrintable(QString("code 0x%1 value %2").arg(c, 2, 16).arg(v)));
            ++checked;
        }
        QCOMPARE(checked, 255);
    }

    // HiF4, worked example 1: [7, 1, 0.5, -0.3 | 0.6, 0, 0, 0 | 1.3, 0...]: s = 1, a = 1, 0, ...;
    // b = 1, 0, 0, ...; codes 7, 1, 1, 8 | 1, 0, 0, 0 | 5 -> 7, 1, 1.0, -0, 0.5, 1.25.
    // Example 2: [100, -37, 3, 0 | 0 x 4 | 9, ...]: s = 14, codes 7, 0xB, 0, ..., 3 -> 98, -42, 0,
    // 10.5.
    void hif4WorkedExamples()
    {
        const std::vector<float> x1 = padded({7.f, 1.f, 0.5f, -0.3f, 0.6f, 0.f, 0.f, 0.f, 1.3f}, 64);
        const Hif4 q = hif4Quantize(x1.data(), 1, 64);
        QCOMPARE(q.scales[0], 1.f);
        QCOMPARE(int(q.exp8[0]), 1);
        QCOMPARE(int(q.exp8[1]), 0);
        QCOMPARE(int(q.exp4[0]), 1);
        QCOMPARE(int(q.exp4[1]), 0);
        QCOMPARE(int(q.exp4[2]), 0);
        QCOMPARE(std::vector<int>(q.codes.begin(), q.codes.begin() + 9), (std::vector<int>{7, 1, 1, 8, 1, 0, 0, 0, 5}));
        std::vector<float> out(64);
        hif4Dequantize(q, out.data());
        QCOMPARE(out[0], 7.f);
        QCOMPARE(out[1], 1.f);
        QCOMPARE(out[2], 1.f);
        QCOMPARE(out[4], 0.5f);
        QCOMPARE(out[8], 1.25f);
        const std::vector<float> x2 = padded({100.f, -37.f, 3.f, 0.f, 0.f, 0.f, 0.f, 0.f, 9.f}, 64);
        const Hif4 r = hif4Quantize(x2.data(), 1, 64);
        QCOMPARE(r.scales[0], 14.f);
        QCOMPARE(int(r.exp8[0]), 1);
        QCOMPARE(int(r.exp4[0]), 1);
        QCOMPARE(int(r.exp8[1]), 0);
        QCOMPARE(int(r.codes[0]), 7);
        QCOMPARE(int(r.codes[1]), 0xB);
        QCOMPARE(int(r.codes[2]), 0);
        QCOMPARE(int(r.codes[8]), 3);
        hif4Dequantize(r, out.data());
        QCOMPARE(out[0], 98.f);
        QCOMPARE(out[1], -42.f);
        QCOMPARE(out[2], 0.f);
        QCOMPARE(out[8], 10.5f);
        QCOMPARE(bf16Round(0.998046875f), 1.f); // the tie to even of example 1
    }

    // NF4 double quantization (FORMATS.md section 1): the signed dynamic map has 256 sorted
    // entries, 127 negatives, 0 at 127 and 1 at 255; absmax [2, 2, 2, 4] -> offset 2.5, absmax2
    // 1.5, codes [47, 47, 47, 255] (map[47] = -0.33203125 to the map's float32 rounding: 1e-6),
    // dequantized [2.00195, 2.00195, 2.00195, 4.0] (to 1e-5: the document rounds them).
    void nf4DoubleQuantWorkedExample()
    {
        const std::vector<float>& map = dynamicMap8();
        QCOMPARE(map.size(), size_t(256));
        QVERIFY(std::is_sorted(map.begin(), map.end()));
        QCOMPARE(map[127], 0.f);
        QCOMPARE(map[255], 1.f);
        QCOMPARE(int(std::count_if(map.begin(), map.end(), [](float v) { return v < 0.f; })), 127);
        QVERIFY(std::fabs(map[47] + 0.33203125f) < 1e-6f);
        const DoubleQuant q = doubleQuantize({2.f, 2.f, 2.f, 4.f});
        QCOMPARE(q.offset, 2.5f);
        QCOMPARE(q.absmax2.size(), size_t(1));
        QCOMPARE(q.absmax2[0], 1.5f);
        QCOMPARE(std::vector<int>(q.codes.begin(), q.codes.end()), (std::vector<int>{47, 47, 47, 255}));
        const std::vector<float> back = doubleDequantize(q);
        for (int i = 0; i < 3; ++i)
            QVERIFY2(std::fabs(back[size_t(i)] - 2.00195f) < 1e-5f, qPrintable(QString::number(back[size_t(i)], 'g', 9)));
        QCOMPARE(back[3], 4.f);
    }

    // compressed-tensors pack_to_int32: [7, -8, 2, 1, -1, 0, 0, 0] -> nibbles 15, 0, 10, 9, 7, 8, 8,
    // 8 -> word 0x88879A0F (int32 -2004379121); and back.
    void int4PackingWorkedExample()
    {
        const std::vector<int8_t> q = {7, -8, 2, 1, -1, 0, 0, 0};
        const std::vector<int32_t> w = packInt4ToInt32(q, 1, 8);
        QCOMPARE(w.size(), size_t(1));
        QCOMPARE(w[0], int32_t(-2004379121));
        QCOMPARE(uint32_t(w[0]), 0x88879A0Fu);
        QCOMPARE(unpackInt32ToInt4(w, 1, 8), q);
        QVERIFY_THROWS_EXCEPTION(InputError, packInt4ToInt32({9, 0, 0, 0, 0, 0, 0, 0}, 1, 8));
        // NF4's bitsandbytes order puts the first code in the high nibble: F2 A8 7D 77 of section 1.
        const std::vector<uint8_t> nf4 = {15, 2, 10, 8, 7, 13, 7, 7};
        QCOMPARE(packNibbles(nf4, false), (std::vector<uint8_t>{0xF2, 0xA8, 0x7D, 0x77}));
        QCOMPARE(unpackNibbles(packNibbles(nf4, false), 8, false), nf4);
    }
};

QTEST_GUILESS_MAIN(TestFormats)
#include "tst_formats.moc"
