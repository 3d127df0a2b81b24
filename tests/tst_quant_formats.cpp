// Weight quantizers (INT sym/asym per-channel and per-group, NF4) and activation quantizers
// (per-token dynamic, per-channel static) against hand-computed tables, plus the labels.
//
// Tolerances. The tables use inputs whose scale is exactly representable (absmax = qmax * 2^e,
// so absmax / qmax is a power of two) and whose NF4 block absmax is a power of two. Then every
// division and product is exact in float32, and the results are compared with exact equality:
// a difference of one ulp would mean a different grid or a different rounding rule. Where the
// scale is not exact, the tolerance is stated at the check.
#include "common/error.h"
#include "quant/act_quant.h"
#include "quant/dabc.h"
#include "quant/quant_settings.h"
#include "quant/weight_quant.h"

#include <ATen/ATen.h>
#include <QtTest/QtTest>

#include "test_util.h"

#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <vector>

using namespace mq::core;

Q_DECLARE_METATYPE(mq::core::WeightQuantSpec)
Q_DECLARE_METATYPE(mq::core::QuantSettings)

namespace {

WeightQuantSpec intSpec(int bits, int groupSize, bool symmetric)
{
    WeightQuantSpec s;
    s.format = WeightFormat::Int;
    s.bits = bits;
    s.groupSize = groupSize;
    s.symmetric = symmetric;
    return s;
}

WeightQuantSpec nf4Spec(int block)
{
    WeightQuantSpec s;
    s.format = WeightFormat::NF4;
    s.nf4Block = block;
    return s;
}

at::Tensor tensorOf(const QList<float>& values, std::vector<int64_t> shape)
{
    std::vector<float> v(values.begin(), values.end());
    return at::from_blob(v.data(), {int64_t(v.size())}, at::kFloat).clone().reshape(shape);
}

// Empty when got equals expected element by element (== so that -0 equals 0), else the first
// mismatch with its flat index.
QString exactMismatch(const at::Tensor& got, const QList<float>& expected)
{
    if (got.scalar_type() != at::kFloat)
        return QStringLiteral("dtype is not float32");
    if (got.numel() != expected.size())
        return QStringLiteral("numel %1, expected %2").arg(got.numel()).arg(expected.size());
    const at::Tensor g = got.contiguous();
    const float* p = g.data_ptr<float>();
    for (qsizetype i = 0; i < expected.size(); ++i) {
        if (!(p[i] == expected[i]))
            return QStringLiteral("element %1: got %2, expected %3")
                .arg(i)
                .arg(double(p[i]), 0, 'g', 9)
                .arg(double(expected[i]), 0, 'g', 9);
    }
    return {};
}

// NF4 code values as published by QLoRA / bitsandbytes, written out here (not read from the
// code under test) so the tables below are independent of it.
constexpr float kL0 = -1.0f;
constexpr float kL1 = -0.6961928009986877f;
constexpr float kL2 = -0.5250730514526367f;
constexpr float kL3 = -0.39491748809814453f;
constexpr float kL6 = -0.09105003625154495f;
constexpr float kL7 = 0.0f;
constexpr float kL8 = 0.07958029955625534f;
constexpr float kL9 = 0.16093020141124725f;
constexpr float kL11 = 0.33791524171829224f;
constexpr float kL12 = 0.44070982933044434f;
constexpr float kL13 = 0.5626170039176941f;
constexpr float kL14 = 0.7229568362236023f;
constexpr float kL15 = 1.0f;

} // namespace

class TestQuantFormats : public QObject {
    Q_OBJECT

private slots:
    // The fused CPU kernel of symmetric integer weights against the ATen expression it
    // replaces: equal bit for bit, per channel and per group, at 4 and 8 bits, with an all-zero
    // row and an outlier channel.
    void fusedSymmetricWeightsMatchAten();
    // The fused CPU pass of a planned group's input (per-channel static grid, DABC) against the
    // two ATen expressions it replaces: the same values bit for bit,
    // without a mask, with one, and with rho's element threshold; rows hold values beyond alpha,
    // exact ties of the rounding, tiny negatives (-0 after rounding), +-inf and NaN (NaN where
    // the expressions give NaN).
    void fusedPerChannelActivationsMatchAten_data();
    void fusedPerChannelActivationsMatchAten();


    void intWeight_data();
    void intWeight();
    void nf4CodeBook();
    void nf4Block_data();
    void nf4Block();
    void nf4TwoBlocks();
    void weightErrors_data();
    void weightErrors();
    void noneFormat();
    void perTokenInt4();
    void perChannelStaticInt4();
    void perChannelClipsToAlpha_data();
    void perChannelClipsToAlpha();
    void perChannelZeroAlpha();
    void intSymIdempotent_data();
    void intSymIdempotent();
    void int4DistinctValuesPerRow();
    void asymConstantRow();
    void weightSpecLabel_data();
    void weightSpecLabel();
    void quantSettingsLabel_data();
    void quantSettingsLabel();
};

void TestQuantFormats::intWeight_data()
{
    QTest::addColumn<WeightQuantSpec>("spec");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<QList<float>>("input");
    QTest::addColumn<QList<float>>("expected");

    // INT4 sym, qmax 7, one scale per row.
    // Row 0: absmax 7 -> s = 7/7 = 1. x/s = x; round half to even: 2.5 -> 2, 3.5 -> 4,
    //   -0.5 -> -0 (= 0), 1.4 -> 1, -4.6 -> -5.
    // Row 1: absmax 3.5 (from -3.5) -> s = 3.5/7 = 0.5.
    //   x/s = [6, 2.5, 1.5, -3.5, 0.4, -7, 0.6, 4] -> round [6, 2, 2, -4, 0, -7, 1, 4]
    //   -> *0.5 = [3, 1, 1, -2, 0, -3.5, 0.5, 2].
    QTest::newRow("int4 sym per-channel")
        << intSpec(4, 0, true) << 2 << 8
        << QList<float>{7.0f, -7.0f, 2.5f, 3.5f, -0.5f, 1.4f, -4.6f, 0.0f,
                        3.0f, 1.25f, 0.75f, -1.75f, 0.2f, -3.5f, 0.3f, 2.0f}
        << QList<float>{7.0f, -7.0f, 2.0f, 4.0f, 0.0f, 1.0f, -5.0f, 0.0f,
                        3.0f, 1.0f, 1.0f, -2.0f, 0.0f, -3.5f, 0.5f, 2.0f};

    // INT4 sym per tensor: one scale for the whole [2, 8] weight, absmax 7 (row 0) -> s = 1.
    // Row 0 as in the per-channel row above; row 1 (absmax 3.5, which per channel would get its
    // own s = 0.5) now rounds on the s = 1 grid: [3, 1.25, 0.75, -1.75, 0.2, -3.5, 0.3, 2] ->
    // [3, 1, 1, -2, 0, -4 (half to even), 0, 2].
    {
        WeightQuantSpec t = intSpec(4, 0, true);
        t.perTensor = true;
        QTest::newRow("int4 sym per-tensor")
            << t << 2 << 8
            << QList<float>{7.0f, -7.0f, 2.5f, 3.5f, -0.5f, 1.4f, -4.6f, 0.0f,
                            3.0f, 1.25f, 0.75f, -1.75f, 0.2f, -3.5f, 0.3f, 2.0f}
            << QList<float>{7.0f, -7.0f, 2.0f, 4.0f, 0.0f, 1.0f, -5.0f, 0.0f,
                            3.0f, 1.0f, 1.0f, -2.0f, 0.0f, -4.0f, 0.0f, 2.0f};
        // INT4 asym per tensor: the range [min(min, 0), max(max, 0)] = [-7, 8] of both rows, 15
        // steps -> s = 1, zero point 7: every integer in it is on the grid and comes back as it
        // is. Per channel, row 1's own range [-4, 3] would give s = 7/15 and move its values
        // (1 -> 0.9333...), so the identity shows the one shared scale.
        WeightQuantSpec a = intSpec(4, 0, false);
        a.perTensor = true;
        QTest::newRow("int4 asym per-tensor")
            << a << 2 << 8
            << QList<float>{8.0f, -7.0f, 2.0f, 3.0f, -1.0f, 1.0f, -5.0f, 0.0f,
                            3.0f, 1.0f, 1.0f, -2.0f, 0.0f, -4.0f, 0.0f, 2.0f}
            << QList<float>{8.0f, -7.0f, 2.0f, 3.0f, -1.0f, 1.0f, -5.0f, 0.0f,
                            3.0f, 1.0f, 1.0f, -2.0f, 0.0f, -4.0f, 0.0f, 2.0f};
    }

    // INT4 sym, group 4 along K on a [2, 8] weight: four groups, each its own scale.
    // r0 g0: absmax 0.875 -> s = 0.125. x/s = [7, -2.5, 3.5, 0.8] -> [7, -2, 4, 1]
    //   -> [0.875, -0.25, 0.5, 0.125].
    // r0 g1: absmax 14 -> s = 2. x/s = [-7, 2.5, 1.5, 0.45] -> [-7, 2, 2, 0] -> [-14, 4, 4, 0].
    //   (One scale per row would be s = 2 for g0 too, and g0 would round to all zeros.)
    // r1 g0: absmax 7 -> s = 1. [0.5, 6.5, -7, 1.5] -> [0, 6, -7, 2].
    // r1 g1: absmax 1.75 -> s = 0.25. x/s = [7, -2.5, 1.5, -4] -> [7, -2, 2, -4]
    //   -> [1.75, -0.5, 0.5, -1].
    QTest::newRow("int4 sym group 4")
        << intSpec(4, 4, true) << 2 << 8
        << QList<float>{0.875f, -0.3125f, 0.4375f, 0.1f, -14.0f, 5.0f, 3.0f, 0.9f,
                        0.5f, 6.5f, -7.0f, 1.5f, 1.75f, -0.625f, 0.375f, -1.0f}
        << QList<float>{0.875f, -0.25f, 0.5f, 0.125f, -14.0f, 4.0f, 4.0f, 0.0f,
                        0.0f, 6.0f, -7.0f, 2.0f, 1.75f, -0.5f, 0.5f, -1.0f};

    // INT4 asym, q = clamp(round(x/s) + z, 0, 15), x_hat = (q - z) * s,
    // s = (max - min)/15, z = round(-min/s), with min <= 0 <= max (the range holds 0).
    // Row 0: min -3, max 12 -> s = 15/15 = 1, z = round(3) = 3.
    //   round(x) = [-3, 12, 2, 0, -2]; +3 = [0, 15, 5, 3, 1] (in range); -3 -> [-3, 12, 2, 0, -2].
    // Row 1: min -1.5, max 13.5 -> s = 1, z = round(1.5) = 2 (tie -> even).
    //   round(x) = [-2, 14, 0, 7, -1]; +2 = [0, 16, 2, 9, 1]; clamp -> [0, 15, 2, 9, 1];
    //   -2 -> [-2, 13, 0, 7, -1]: the rounded zero point shifts the grid and the max clips to 13.
    // Row 2 (all positive): the range is [0, 7.5] (not [1, 7.5]) -> s = 0.5, z = 0.
    //   x/s = [2, 15, 6.5, 10, 4.4] -> round [2, 15, 6, 10, 4]; * 0.5 = [1, 7.5, 3, 5, 2].
    QTest::newRow("int4 asym per-channel")
        << intSpec(4, 0, false) << 3 << 5
        << QList<float>{-3.0f, 12.0f, 2.5f, 0.4f, -1.5f,
                        -1.5f, 13.5f, 0.5f, 7.25f, -1.0f,
                        1.0f, 7.5f, 3.25f, 5.0f, 2.2f}
        << QList<float>{-3.0f, 12.0f, 2.0f, 0.0f, -2.0f,
                        -2.0f, 13.0f, 0.0f, 7.0f, -1.0f,
                        1.0f, 7.5f, 3.0f, 5.0f, 2.0f};

    // INT8 sym, qmax 127.
    // Row 0: absmax 127 -> s = 1. round: 127, -126.5 -> -126 (even), 0.5 -> 0, 1.5 -> 2,
    //   100.25 -> 100, -3.7 -> -4.
    // Row 1: absmax 63.5 -> s = 0.5. x/s = [127, -0.5, 1.5, 20.4, -126.5, 2]
    //   -> [127, 0, 2, 20, -126, 2] -> [63.5, 0, 1, 10, -63, 1].
    QTest::newRow("int8 sym per-channel")
        << intSpec(8, 0, true) << 2 << 6
        << QList<float>{127.0f, -126.5f, 0.5f, 1.5f, 100.25f, -3.7f,
                        63.5f, -0.25f, 0.75f, 10.2f, -63.25f, 1.0f}
        << QList<float>{127.0f, -126.0f, 0.0f, 2.0f, 100.0f, -4.0f,
                        63.5f, 0.0f, 1.0f, 10.0f, -63.0f, 1.0f};

    // INT3 sym, qmax 3.
    // Row 0: absmax 3 -> s = 1. [3, -1.5, 2.5, -0.5] -> [3, -2, 2, 0].
    // Row 1: absmax 0.75 -> s = 0.25. x/s = [-3, 1.5, 2.5, 0.4] -> [-3, 2, 2, 0]
    //   -> [-0.75, 0.5, 0.5, 0].
    QTest::newRow("int3 sym per-channel")
        << intSpec(3, 0, true) << 2 << 4
        << QList<float>{3.0f, -1.5f, 2.5f, -0.5f, -0.75f, 0.375f, 0.625f, 0.1f}
        << QList<float>{3.0f, -2.0f, 2.0f, 0.0f, -0.75f, 0.5f, 0.5f, 0.0f};
}

void TestQuantFormats::intWeight()
{
    QFETCH(WeightQuantSpec, spec);
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(QList<float>, input);
    QFETCH(QList<float>, expected);

    const at::Tensor w = tensorOf(input, {rows, cols});
    const at::Tensor q = fakeQuantWeight(w, spec);
    QCOMPARE(q.sizes().vec(), w.sizes().vec());
    // Exact: every scale above is a power of two, so x/s and q*s are exact in float32.
    const QString err = exactMismatch(q, expected);
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestQuantFormats::nf4CodeBook()
{
    const float* l = nf4Levels();
    for (int i = 0; i + 1 < 16; ++i)
        QVERIFY2(l[i] < l[i + 1], qPrintable(QStringLiteral("levels %1 and %2 not ascending").arg(i).arg(i + 1)));
    // Exact: the endpoints and zero are exact literals of the code book.
    QCOMPARE(l[0], -1.0f);
    QCOMPARE(l[15], 1.0f);
    QVERIFY(l[7] == 0.0f);
    int zeros = 0;
    for (int i = 0; i < 16; ++i)
        zeros += l[i] == 0.0f ? 1 : 0;
    QCOMPARE(zeros, 1);
    // 7 negative and 8 positive codes (the NF4 asymmetry that gives an exact zero).
    QVERIFY(l[6] < 0.0f && l[8] > 0.0f);
    // A few published values, exact (same float32 literal).
    QVERIFY(l[1] == kL1);
    QVERIFY(l[8] == kL8);
    QVERIFY(l[14] == kL14);
}

void TestQuantFormats::nf4Block_data()
{
    QTest::addColumn<float>("value");
    QTest::addColumn<float>("expected");

    // The block is [1.0, value, 0 x 62]: absmax 1 (|value| <= 1), so the normalised value is
    // the value itself and the result is the nearest code value. Boundaries are the midpoints
    // of consecutive levels; a value exactly on a midpoint goes to the LOWER level (as in
    // bitsandbytes, which tests x > midpoint).
    QTest::newRow("level 0 (-1)") << kL0 << kL0;
    QTest::newRow("level 1") << kL1 << kL1;
    QTest::newRow("level 7 (0)") << kL7 << kL7;
    QTest::newRow("level 13") << kL13 << kL13;
    QTest::newRow("level 15 (1)") << kL15 << kL15;
    // mid(L7, L8) = (0 + 0.07958029955625534)/2 = 0.03979014977812767, exact in float32
    // (half of a float32). On it -> L7 = 0; 5e-8 above -> L8.
    QTest::newRow("mid L7/L8 exact -> lower") << 0.03979014977812767f << kL7;
    QTest::newRow("mid L7/L8 + 5e-8 -> upper") << 0.0397902f << kL8;
    // mid(L6, L7) = -0.09105003625154495/2 = -0.04552501812577247, exact. On it -> L6;
    // 1.8e-8 above -> L7 = 0.
    QTest::newRow("mid L6/L7 exact -> lower") << -0.04552501812577247f << kL6;
    QTest::newRow("mid L6/L7 + 1.8e-8 -> upper") << -0.045525f << kL7;
    // mid(L14, L15) = (0.7229568362236023 + 1)/2 = 0.86147841811. 0.8614783 is 1.2e-7 below,
    // 0.8614786 is 1.8e-7 above (float32 spacing there is 6e-8, the rounded midpoint is within 3e-8).
    QTest::newRow("mid L14/L15 - 1.2e-7 -> L14") << 0.8614783f << kL14;
    QTest::newRow("mid L14/L15 + 1.8e-7 -> L15") << 0.8614786f << kL15;
    // mid(L0, L1) = (-1 - 0.6961928009986877)/2 = -0.84809640050.
    QTest::newRow("mid L0/L1 + 2e-7 -> L1") << -0.8480962f << kL1;
    QTest::newRow("mid L0/L1 - 2e-7 -> L0") << -0.8480966f << kL0;
    // mid(L8, L9) = (0.07958029955625534 + 0.16093020141124725)/2 = 0.12025525048.
    QTest::newRow("mid L8/L9 - 5e-8 -> L8") << 0.1202552f << kL8;
    QTest::newRow("mid L8/L9 + 5e-8 -> L9") << 0.1202553f << kL9;
    // 0.3: mid(L10, L11) = (0.24611230194568634 + 0.33791524171829224)/2 = 0.29201377 < 0.3
    // and 0.3 < mid(L11, L12) = 0.38931254 -> L11.
    QTest::newRow("0.3 -> L11") << 0.3f << kL11;
    // -0.45: mid(L2, L3) = (-0.5250730514526367 - 0.39491748809814453)/2 = -0.45999527 < -0.45
    // -> L3.
    QTest::newRow("-0.45 -> L3") << -0.45f << kL3;
}

void TestQuantFormats::nf4Block()
{
    QFETCH(float, value);
    QFETCH(float, expected);

    QList<float> in(64, 0.0f);
    in[0] = 1.0f;
    in[1] = value;
    QList<float> want(64, 0.0f);
    want[0] = 1.0f;
    want[1] = expected;
    const at::Tensor q = fakeQuantWeight(tensorOf(in, {2, 32}), nf4Spec(64));
    // Exact: absmax is 1, so normalisation and rescaling leave the code values untouched.
    const QString err = exactMismatch(q, want);
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestQuantFormats::nf4TwoBlocks()
{
    // [4, 32] = 128 values = two blocks of 64 over the FLATTENED weight: rows 0-1 are block 0
    // (absmax 2), rows 2-3 block 1 (absmax 0.25).
    QList<float> in(128, 0.0f);
    QList<float> want(128, 0.0f);
    auto at2 = [](int r, int c) { return r * 32 + c; };
    // Block 0, absmax 2:
    //   -2 -> -1 -> L0 -> -2.
    in[at2(0, 0)] = -2.0f;
    want[at2(0, 0)] = -2.0f;
    //   1 -> 0.5; mid(L12, L13) = (0.44070982933044434 + 0.5626170039176941)/2 = 0.50166342 > 0.5
    //   -> L12 * 2 = 0.8814196586608887.
    in[at2(0, 1)] = 1.0f;
    want[at2(0, 1)] = 0.8814196586608887f;
    //   0.125 -> 0.0625 > mid(L7, L8) = 0.0397901 -> L8 * 2 = 0.15916059911251068.
    //   (Per-row blocks would give row 1 absmax 0.125 and return 0.125 here.)
    in[at2(1, 5)] = 0.125f;
    want[at2(1, 5)] = 0.15916059911251068f;
    // Block 1, absmax 0.25:
    //   0.25 -> 1 -> L15 -> 0.25.
    in[at2(2, 0)] = 0.25f;
    want[at2(2, 0)] = 0.25f;
    //   0.1 -> 0.4 > mid(L11, L12) = 0.38931254 -> L12 * 0.25 = 0.11017745733261108.
    //   (A single absmax 2 would normalise it to 0.05 and give L8 * 2 = 0.159.)
    in[at2(2, 3)] = 0.1f;
    want[at2(2, 3)] = 0.11017745733261108f;
    //   -0.125 -> -0.5 < mid(L2, L3) = -0.45999527 -> L2 * 0.25 = -0.13126826286315918.
    in[at2(3, 31)] = -0.125f;
    want[at2(3, 31)] = -0.13126826286315918f;

    const at::Tensor q = fakeQuantWeight(tensorOf(in, {4, 32}), nf4Spec(64));
    QCOMPARE(q.sizes().vec(), (std::vector<int64_t>{4, 32}));
    // Exact: both absmax values are powers of two.
    const QString err = exactMismatch(q, want);
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestQuantFormats::weightErrors_data()
{
    QTest::addColumn<WeightQuantSpec>("spec");
    QTest::addColumn<QList<int>>("shape");
    QTest::addColumn<QString>("fragment");

    QTest::newRow("nf4 numel 60") << nf4Spec(64) << QList<int>{3, 20}
                                  << "weight size (60) to be a multiple of the block size 64";
    QTest::newRow("nf4 numel 96") << nf4Spec(64) << QList<int>{2, 48}
                                  << "weight size (96) to be a multiple of the block size 64";
    QTest::newRow("int4 K 6 group 4") << intSpec(4, 4, true) << QList<int>{2, 6}
                                      << "input size 6 is not a multiple of group size 4";
    QTest::newRow("int4 asym K 10 group 4") << intSpec(4, 4, false) << QList<int>{3, 10}
                                           << "input size 10 is not a multiple of group size 4";
    QTest::newRow("int 9 bits") << intSpec(9, 0, true) << QList<int>{2, 4} << "2..8 bits, got 9";
    QTest::newRow("1-D weight") << intSpec(4, 0, true) << QList<int>{8} << "2-D weight, got 1-D";
}

void TestQuantFormats::weightErrors()
{
    QFETCH(WeightQuantSpec, spec);
    QFETCH(QList<int>, shape);
    QFETCH(QString, fragment);

    std::vector<int64_t> dims(shape.begin(), shape.end());
    const at::Tensor w = at::ones(dims, at::kFloat);
    const auto msg = inputErrorOf([&] { fakeQuantWeight(w, spec); });
    QVERIFY2(msg.has_value(), "expected an InputError");
    QVERIFY2(QString::fromStdString(*msg).contains(fragment), msg->c_str());
}

void TestQuantFormats::noneFormat()
{
    WeightQuantSpec fp; // format None
    const at::Tensor w = at::randn({3, 5}, at::detail::createCPUGenerator(11));
    const at::Tensor q = fakeQuantWeight(w, fp);
    QCOMPARE(q.scalar_type(), at::kFloat);
    // Exact: nothing is quantized.
    QVERIFY(at::equal(q, w));

    // A double or non-contiguous weight comes back as the same values in float32.
    const at::Tensor wd = at::randn({4, 6}, at::detail::createCPUGenerator(12)).to(at::kDouble);
    const at::Tensor qd = fakeQuantWeight(wd, fp);
    QCOMPARE(qd.scalar_type(), at::kFloat);
    QVERIFY(at::equal(qd, wd.to(at::kFloat)));
    const at::Tensor wt = w.t();
    QVERIFY(!wt.is_contiguous());
    QVERIFY(at::equal(fakeQuantWeight(wt, fp), wt));
}

void TestQuantFormats::perTokenInt4()
{
    // X [2, 2, 4]: four tokens, each its own scale absmax/7.
    // t0: absmax 7 -> s = 1. [7, -2.5, 0.5, 3.2] -> [7, -2, 0, 3].
    // t1: absmax 0.875 -> s = 0.125. x/s = [0.8, -7, 2.5, 3.5] -> [1, -7, 2, 4]
    //   -> [0.125, -0.875, 0.25, 0.5].
    // t2: all zero -> scale floors at 1e-12, 0/1e-12 = 0 -> zeros (no NaN).
    // t3: absmax 14 -> s = 2. x/s = [-7, 2.5, 0.5, 1.5] -> [-7, 2, 0, 2] -> [-14, 4, 0, 4].
    const QList<float> in{7.0f, -2.5f, 0.5f, 3.2f, 0.1f, -0.875f, 0.3125f, 0.4375f,
                          0.0f, 0.0f, 0.0f, 0.0f, -14.0f, 5.0f, 1.0f, 3.0f};
    const QList<float> want{7.0f, -2.0f, 0.0f, 3.0f, 0.125f, -0.875f, 0.25f, 0.5f,
                            0.0f, 0.0f, 0.0f, 0.0f, -14.0f, 4.0f, 0.0f, 4.0f};
    const at::Tensor q = fakeQuantPerToken(tensorOf(in, {2, 2, 4}), 4);
    QCOMPARE(q.sizes().vec(), (std::vector<int64_t>{2, 2, 4}));
    // Exact: power-of-two scales.
    const QString err = exactMismatch(q, want);
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestQuantFormats::fusedSymmetricWeightsMatchAten()
{
    at::manual_seed(7);
    at::Tensor w = at::randn({48, 256}) * 0.05;
    w.select(0, 3).zero_();
    w.select(1, 17).mul_(40.0); // an outlier input channel
    for (int bits : {4, 8})
        for (int group : {0, 64}) {
            WeightQuantSpec spec;
            spec.format = WeightFormat::Int;
            spec.bits = bits;
            spec.groupSize = group;
            const at::Tensor fused = fakeQuantWeight(w, spec);
            const at::Tensor viaAten = fakeQuantIntAten(w, spec);
            QVERIFY2(at::equal(fused, viaAten), qPrintable(QString("bits %1 group %2").arg(bits).arg(group)));
        }
}

void TestQuantFormats::fusedPerChannelActivationsMatchAten_data()
{
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("mode"); // 0 no mask, 1 mask, 2 mask and rho
    for (int bits : {4, 8})
        for (int k : {37, 4096})
            for (int mode : {0, 1, 2})
                QTest::addRow("int%d K=%d %s", bits, k, mode == 0 ? "no mask" : (mode == 1 ? "mask" : "mask, rho 0.5"))
                    << bits << k << mode;
}

void TestQuantFormats::fusedPerChannelActivationsMatchAten()
{
    QFETCH(int, bits);
    QFETCH(int, channels);
    QFETCH(int, mode);
    at::manual_seed(11);
    const int64_t k = channels;
    at::Tensor x = at::randn({9, k});
    x.select(1, 5).mul_(30.0); // an outlier channel, far beyond its bound
    at::Tensor alpha = x.abs().amax(0) * 0.6 + 1e-3;
    alpha.index_put_({0}, 0.0); // a zero bound: the scale floors at 1e-12
    alpha.index_put_({1}, 3.5); // scale 0.5 at int4: exact ties below
    const double qmax = double((1 << (bits - 1)) - 1);
    const float s1 = float(3.5 / qmax);
    const float specials[] = {0.5f * s1, 1.5f * s1, -2.5f * s1, -1e-9f, -0.0f, INFINITY, -INFINITY, NAN};
    for (int i = 0; i < 8; ++i)
        x.index_put_({i, 1}, specials[i]);
    x.index_put_({8, 2}, -1e-9f); // rounds to -0 elsewhere too
    at::Tensor mask, none;
    if (mode > 0)
        mask = (at::rand({k}) < 0.3).to(at::kFloat);
    const double rho = mode == 2 ? 0.5 : 0.0;
    const at::Tensor fused = fakeQuantPerChannelCompensated(x, alpha, bits, mode > 0 ? mask : none, rho);
    const at::Tensor xq = fakeQuantPerChannel(x, alpha, bits);
    const at::Tensor viaAten = mode > 0 ? compensatedInput(x, xq, mask, alpha, rho) : xq;
    QCOMPARE(fused.sizes().vec(), viaAten.sizes().vec());
    const at::Tensor a = fused.contiguous(), b = viaAten.contiguous();
    // Equal values, NaN where the expressions give NaN (whose payload ATen's vectorized clamp
    // sets to all ones and its scalar loop keeps). The sign of a zero is not compared: ATen's
    // own vector and scalar loops disagree on it where a clamp bound is itself zero
    // (minimum(-0, +0)).
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    for (int64_t i = 0; i < a.numel(); ++i) {
        const bool same = std::isnan(pa[i]) ? std::isnan(pb[i]) : pa[i] == pb[i];
        QVERIFY2(same, qPrintable(QString("element %1 (row %2, channel %3): %4 against %5")
                                      .arg(i).arg(i / k).arg(i % k).arg(double(pa[i]), 0, 'g', 9)
                                      .arg(double(pb[i]), 0, 'g', 9)));
    }
    // The specials came through as the expressions give them: NaN stays NaN, the ties rounded
    // to even (0.5 -> 0, 1.5 -> 2, -2.5 -> -2 steps of s).
    QVERIFY(std::isnan(a[7][1].item<float>()));
    if (mode == 0 && bits == 4) {
        QCOMPARE(a[0][1].item<float>(), 0.0f);
        QCOMPARE(a[1][1].item<float>(), 2.0f * s1);
        QCOMPARE(a[2][1].item<float>(), -2.0f * s1);
        QVERIFY(a[3][1].item<float>() == 0.0f);
    }
}

void TestQuantFormats::perChannelStaticInt4()
{
    // alpha = [7, 0.875, 3.5, 14] -> s = alpha/7 = [1, 0.125, 0.5, 2].
    // Row 0: x/s = [2.5, 2.5, -20, 1.5] -> round [2, 2, -20, 2] -> clamp [2, 2, -7, 2]
    //   -> [2, 0.25, -3.5, 4].
    // Row 1: x/s = [9, -8, 3.5, -7.5] -> round [9, -8, 4, -8] -> clamp [7, -7, 4, -7]
    //   -> [7, -0.875, 2, -14]. Values beyond alpha come back as exactly +-alpha.
    const QList<float> in{2.5f, 0.3125f, -10.0f, 3.0f, 9.0f, -1.0f, 1.75f, -15.0f};
    const QList<float> want{2.0f, 0.25f, -3.5f, 4.0f, 7.0f, -0.875f, 2.0f, -14.0f};
    const at::Tensor alpha = tensorOf({7.0f, 0.875f, 3.5f, 14.0f}, {4});
    const at::Tensor q = fakeQuantPerChannel(tensorOf(in, {2, 4}), alpha, 4);
    // Exact: power-of-two scales.
    const QString err = exactMismatch(q, want);
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestQuantFormats::perChannelClipsToAlpha_data()
{
    QTest::addColumn<float>("alpha");

    QTest::newRow("alpha 3.5 (alpha/7 = 0.5)") << 3.5f;
    QTest::newRow("alpha 1") << 1.0f;
    QTest::newRow("alpha 0.1") << 0.1f;
    // 0.47f / 7 rounds in float32, and 7 * fl(0.47f / 7) = 0.47000003f, one ulp above alpha.
    QTest::newRow("alpha 0.47 (alpha/7 inexact)") << 0.47f;
}

void TestQuantFormats::perChannelClipsToAlpha()
{
    QFETCH(float, alpha);

    // One channel; tokens far beyond, exactly at, and just beyond the bounds.
    const QList<float> in{10.0f * alpha, -10.0f * alpha, alpha, -alpha, 1.5f * alpha};
    const QList<float> want{alpha, -alpha, alpha, -alpha, alpha};
    const at::Tensor q = fakeQuantPerChannel(tensorOf(in, {5, 1}), tensorOf({alpha}, {1}), 4);
    // Exact: act_quant.h promises values clamp to [-alpha_c, alpha_c], and the top code times
    // the scale is meant to be the bound itself.
    const QString err = exactMismatch(q, want);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    // Whatever the rounding, the clip level is within one float32 ulp of alpha (relative
    // 2^-23): scale = alpha/7 is rounded once and multiplied by 7 once.
    const float ulp = std::nextafter(alpha, 2.0f * alpha) - alpha;
    const float top = q[0][0].item<float>();
    QVERIFY2(std::fabs(top - alpha) <= ulp,
             qPrintable(QStringLiteral("clip level %1 vs alpha %2").arg(double(top), 0, 'g', 9)
                            .arg(double(alpha), 0, 'g', 9)));
}

void TestQuantFormats::perChannelZeroAlpha()
{
    // alpha = [0, 1.75]. Channel 0 has a zero bound: its scale floors at 1e-12 instead of
    // dividing by zero. Channel 1: s = 0.25, 1 -> 4 -> 1, -3 -> -12 -> clamp -7 -> -1.75.
    const at::Tensor x = tensorOf({0.5f, 1.0f, 0.0f, -3.0f}, {2, 2});
    const at::Tensor alpha = tensorOf({0.0f, 1.75f}, {2});
    const at::Tensor q = fakeQuantPerChannel(x, alpha, 4);
    QVERIFY(at::isfinite(q).all().item<bool>());
    // Channel 0 is at most qmax * 1e-12 = 7e-12 in magnitude (not exactly 0: the floor), and
    // exactly 0 for x = 0.
    QVERIFY(std::fabs(q[0][0].item<float>()) <= 7.0e-12f * (1.0f + 1e-6f));
    QVERIFY(q[1][0].item<float>() == 0.0f);
    // Exact: power-of-two scale.
    QVERIFY(q[0][1].item<float>() == 1.0f);
    QVERIFY(q[1][1].item<float>() == -1.75f);
}

void TestQuantFormats::intSymIdempotent_data()
{
    QTest::addColumn<int>("bits");
    QTest::newRow("int3") << 3;
    QTest::newRow("int4") << 4;
    QTest::newRow("int8") << 8;
}

void TestQuantFormats::intSymIdempotent()
{
    QFETCH(int, bits);
    const WeightQuantSpec spec = intSpec(bits, 0, true);

    // A row already on the grid stays: codes [-qmax, -1, 0, 2, qmax] * 0.25.
    const float qmax = float((1 << (bits - 1)) - 1);
    const QList<float> grid{-qmax * 0.25f, -0.25f, 0.0f, 0.5f, qmax * 0.25f};
    const at::Tensor g = fakeQuantWeight(tensorOf(grid, {1, 5}), spec);
    // Exact: s = (qmax * 0.25) / qmax = 0.25 exactly, and every value is an integer times 0.25.
    const QString err = exactMismatch(g, grid);
    QVERIFY2(err.isEmpty(), qPrintable(err));

    // Random weights with outliers: q(q(w)) == q(w). Exact: the re-quantized row has absmax
    // fl(qmax * s), which gives back the same scale s, and every value is a small integer times
    // s, so each code rounds back to itself.
    at::Tensor w = at::randn({32, 128}, at::detail::createCPUGenerator(21));
    w.select(1, 7).mul_(20.0); // one outlier input channel
    const at::Tensor q1 = fakeQuantWeight(w, spec);
    const at::Tensor q2 = fakeQuantWeight(q1, spec);
    const at::Tensor diff = (q2 - q1).abs().max();
    QVERIFY2(at::equal(q1, q2), qPrintable(QStringLiteral("max |q(q(w)) - q(w)| = %1")
                                               .arg(diff.item<double>(), 0, 'g', 9)));
}

void TestQuantFormats::int4DistinctValuesPerRow()
{
    // At most 2 * 7 + 1 = 15 distinct values in a row of an INT4 sym per-channel result, for
    // long Gaussian rows (4096 distinct inputs) that reach every code.
    const at::Tensor w = at::randn({16, 4096}, at::detail::createCPUGenerator(31));
    const at::Tensor q = fakeQuantWeight(w, intSpec(4, 0, true)).contiguous();
    const float* p = q.data_ptr<float>();
    for (int64_t r = 0; r < q.size(0); ++r) {
        // std::set counts -0 and 0 once, as one code.
        const std::set<float> distinct(p + r * q.size(1), p + (r + 1) * q.size(1));
        QVERIFY2(distinct.size() <= 15,
                 qPrintable(QStringLiteral("row %1 has %2 distinct values").arg(r).arg(distinct.size())));
        QVERIFY2(distinct.size() >= 13, "the row uses too few codes for this check to mean anything");
    }
}

void TestQuantFormats::asymConstantRow()
{
    // A constant row c: the range [min(c, 0), max(c, 0)] is |c| wide, s = fl(|c| / 15), and c
    // lands on an end code (15 s or -15 s with z = 15). Each value should come back as itself;
    // tolerance one float32 ulp (relative 2^-23), because |c| / 15 and the product are each
    // rounded once. For 0 the scale floors at 1e-12 and the result is exact.
    const QList<float> consts{0.0f, 0.5f, 0.1f, -0.3f, 2.75f};
    for (float c : consts) {
        const at::Tensor w = at::full({2, 8}, c, at::kFloat);
        const at::Tensor q = fakeQuantWeight(w, intSpec(4, 0, false));
        QVERIFY(at::isfinite(q).all().item<bool>());
        const float got = q[0][0].item<float>();
        QVERIFY(at::equal(q, at::full_like(q, got)));
        const float ulp = std::fabs(std::nextafter(c, 2.0f * c + 1.0f) - c);
        QVERIFY2(std::fabs(got - c) <= ulp,
                 qPrintable(QStringLiteral("constant %1 -> %2").arg(double(c), 0, 'g', 9)
                                .arg(double(got), 0, 'g', 9)));
        if (c == 0.0f)
            QVERIFY(at::equal(q, w));
    }
}

void TestQuantFormats::weightSpecLabel_data()
{
    QTest::addColumn<WeightQuantSpec>("spec");
    QTest::addColumn<QString>("label");

    QTest::newRow("fp") << WeightQuantSpec{} << "fp";
    QTest::newRow("int4 sym g128") << intSpec(4, 128, true) << "int4-sym-g128";
    QTest::newRow("int4 asym ch") << intSpec(4, 0, false) << "int4-asym-ch";
    QTest::newRow("int8 sym ch") << intSpec(8, 0, true) << "int8-sym-ch";
    QTest::newRow("int3 asym g64") << intSpec(3, 64, false) << "int3-asym-g64";
    WeightQuantSpec t = intSpec(8, 0, true);
    t.perTensor = true;
    QTest::newRow("int8 sym per-tensor") << t << "int8-sym-t";
    QTest::newRow("nf4 b64") << nf4Spec(64) << "nf4-b64";
    QTest::newRow("nf4 b128") << nf4Spec(128) << "nf4-b128";
}

void TestQuantFormats::weightSpecLabel()
{
    QFETCH(WeightQuantSpec, spec);
    QFETCH(QString, label);
    QCOMPARE(QString::fromStdString(spec.label()), label);
}

void TestQuantFormats::quantSettingsLabel_data()
{
    QTest::addColumn<QuantSettings>("settings");
    QTest::addColumn<QString>("label");

    // W is 16 for fp weights, 4 for NF4, the bit width for Int.
    QTest::newRow("defaults") << QuantSettings{} << "rtn W16A16 (fp, none, simulated)";

    QuantSettings mq;
    mq.method = "morphoquant";
    mq.weight = nf4Spec(64);
    mq.abits = 4;
    mq.act = ActScheme::PerChannelStatic;
    QTest::newRow("morphoquant nf4 A4")
        << mq << "morphoquant W4A4 (nf4-b64, per-channel-static, simulated)";

    QuantSettings w8a8;
    w8a8.weight = intSpec(8, 0, true);
    w8a8.abits = 8;
    w8a8.act = ActScheme::PerTokenDynamic;
    QTest::newRow("rtn int8 A8") << w8a8 << "rtn W8A8 (int8-sym-ch, per-token-dynamic, simulated)";

    QuantSettings w3;
    w3.weight = intSpec(3, 128, true);
    QTest::newRow("rtn int3 g128 A16") << w3 << "rtn W3A16 (int3-sym-g128, none, simulated)";
}

void TestQuantFormats::quantSettingsLabel()
{
    QFETCH(QuantSettings, settings);
    QFETCH(QString, label);
    QCOMPARE(QString::fromStdString(settings.label()), label);
}

QTEST_APPLESS_MAIN(TestQuantFormats)
#include "tst_quant_formats.moc"
