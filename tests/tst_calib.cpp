// Calibration statistics: ChannelStats (min/max/sums/log2 histogram, chunking, merging, the
// NaN/Inf guard), both dispersion-score forms, and the StatsCollector hook (async == inline,
// routing of rows by modality, errors surfacing from the worker).
// Expected values are worked out by hand below; each comment shows the arithmetic.
// ATen before Qt: Qt's "slots" macro breaks ATen's headers where no precompiled header has
// included them first (the sanitizer build).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <QtTest/QtTest>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "calib/channel_stats.h"
#include "calib/collector.h"
#include "common/error.h"

using namespace mq::core;

namespace {

// The small matrix of most cases, X [T=4, K=3], row-major. Every value is a dyadic rational
// with few mantissa bits, so all sums below are exact in double and every comparison of
// accumulated sums can be exact (tolerance 0) regardless of summation order.
constexpr int64_t kT = 4, kK = 3;
const float kX[kT * kK] = {
    1.0f,  -2.0f,   0.0f,  // row 0
    3.0f,  0.5f,    -4.0f, // row 1
    -1.0f, 2.0f,    8.0f,  // row 2
    2.0f,  -0.25f,  0.0f,  // row 3
};

ChannelStats statsOf(const float* x, int64_t rows, int64_t k = kK)
{
    ChannelStats s;
    s.reset(k);
    s.accumulate(x, rows, "test input");
    return s;
}

// Field-by-field exact equality. QCOMPARE returns from this helper only; callers check
// QTest::currentTestFailed().
void compareStats(const ChannelStats& a, const ChannelStats& b)
{
    QCOMPARE(a.channels, b.channels);
    QCOMPARE(a.count, b.count);
    QCOMPARE(a.min, b.min);
    QCOMPARE(a.max, b.max);
    QCOMPARE(a.sumAbs, b.sumAbs);
    QCOMPARE(a.sumSq, b.sumSq);
    QCOMPARE(a.hist, b.hist);
}

#define COMPARE_STATS(a, b)                                                                                   \
    do {                                                                                                      \
        compareStats(a, b);                                                                                   \
        if (QTest::currentTestFailed())                                                                       \
            return;                                                                                           \
    } while (0)

// Puts the statistics kernel of the test's start back when the test ends.
struct KernelRestore {
    StatsKernel kernel = statsKernel();
    ~KernelRestore() { setStatsKernel(kernel); }
};

// Puts LibTorch's thread count of the test's start back when the test ends.
struct ThreadsRestore {
    int threads = at::get_num_threads();
    ~ThreadsRestore() { at::set_num_threads(threads); }
};

uint32_t histSum(const ChannelStats& s, int64_t c)
{
    uint32_t n = 0;
    for (int b = 0; b < kHistBins; ++b)
        n += s.hist[size_t(c * kHistBins + b)];
    return n;
}

bool relClose(double got, double want, double rel)
{
    return std::fabs(got - want) <= rel * std::fabs(want);
}

} // namespace

class TestCalib : public QObject {
    Q_OBJECT

private slots:
    void accumulatePerChannel_data();
    void accumulatePerChannel();
    void accumulateInChunks_data();
    void accumulateInChunks();
    void mergeEqualsAccumulateAll();
    void mergeEdgeCases();
    void histBinEdges_data();
    void histBinEdges();
    void histBinLowerEdges();
    void histogramOfMatrix();
    void histogramCountsSumToCount();
    void accumulateMatchesElementwise_data();
    void accumulateMatchesElementwise();
    void statsKernelChoice();
    void kernelsAgreeOnRandomShapes();
    void sameBitsAtAnyThreadCount();
    void hugeFiniteValuesAccepted();
    void nonFiniteThrowsAndKeepsStats_data();
    void nonFiniteThrowsAndKeepsStats();
    void nonFiniteMadeRowNamed();
    void dispersionScores_data();
    void dispersionScores();
    void dispersionScoresEmptyAndConstant();
    void boxSummaryTukey();
    void collectorAsyncEqualsInline();
    void collectorRoutesModalities_data();
    void collectorRoutesModalities();
    void collectorNaNThrows_data();
    void collectorNaNThrows();
    void collectorNaNMessageNamesBatchRow();
};

// ---- ChannelStats::accumulate -------------------------------------------------------------

void TestCalib::accumulatePerChannel_data()
{
    QTest::addColumn<int>("c");
    QTest::addColumn<float>("mn");
    QTest::addColumn<float>("mx");
    QTest::addColumn<double>("sumAbs");
    QTest::addColumn<double>("sumSq");
    QTest::addColumn<double>("meanAbs");
    QTest::addColumn<double>("absMax");
    // c0 = {1, 3, -1, 2}: min -1, max 3, sum|x| 1+3+1+2 = 7, sum x^2 1+9+1+4 = 15,
    //      mean|x| 7/4 = 1.75, absMax max(|-1|, |3|) = 3
    QTest::newRow("c0") << 0 << -1.0f << 3.0f << 7.0 << 15.0 << 1.75 << 3.0;
    // c1 = {-2, 0.5, 2, -0.25}: min -2, max 2, sum|x| 2+0.5+2+0.25 = 4.75,
    //      sum x^2 4+0.25+4+0.0625 = 8.3125, mean|x| 4.75/4 = 1.1875, absMax 2
    QTest::newRow("c1") << 1 << -2.0f << 2.0f << 4.75 << 8.3125 << 1.1875 << 2.0;
    // c2 = {0, -4, 8, 0}: min -4, max 8, sum|x| 12, sum x^2 16+64 = 80, mean|x| 12/4 = 3, absMax 8
    QTest::newRow("c2") << 2 << -4.0f << 8.0f << 12.0 << 80.0 << 3.0 << 8.0;
}

void TestCalib::accumulatePerChannel()
{
    QFETCH(int, c);
    QFETCH(float, mn);
    QFETCH(float, mx);
    QFETCH(double, sumAbs);
    QFETCH(double, sumSq);
    QFETCH(double, meanAbs);
    QFETCH(double, absMax);
    const ChannelStats s = statsOf(kX, kT);
    QCOMPARE(s.channels, kK);
    QCOMPARE(s.count, kT);
    QVERIFY(!s.empty());
    // Tolerance 0: min/max are copies of inputs; the sums are exact (dyadic values, see kX);
    // meanAbs divides an exact sum by 4, also exact.
    QVERIFY(s.min[size_t(c)] == mn);
    QVERIFY(s.max[size_t(c)] == mx);
    QVERIFY(s.sumAbs[size_t(c)] == sumAbs);
    QVERIFY(s.sumSq[size_t(c)] == sumSq);
    QVERIFY(s.meanAbs(c) == meanAbs);
    QVERIFY(s.absMax(c) == absMax);
}

void TestCalib::accumulateInChunks_data()
{
    QTest::addColumn<int>("split");
    // split 0 and 4 also check that a call with zero rows is a no-op.
    for (int split = 0; split <= kT; ++split)
        QTest::addRow("rows %d + %d", split, int(kT) - split) << split;
}

void TestCalib::accumulateInChunks()
{
    QFETCH(int, split);
    const ChannelStats one = statsOf(kX, kT);
    ChannelStats two;
    two.reset(kK);
    two.accumulate(kX, split, "first chunk");
    two.accumulate(kX + split * kK, kT - split, "second chunk");
    // Exact: chunking only regroups the sums, and the sums of kX are exact in double.
    COMPARE_STATS(two, one);
}

void TestCalib::mergeEqualsAccumulateAll()
{
    const ChannelStats all = statsOf(kX, kT);
    ChannelStats a = statsOf(kX, 2);            // rows 0, 1
    const ChannelStats b = statsOf(kX + 2 * kK, 2); // rows 2, 3
    a.merge(b);
    COMPARE_STATS(a, all); // exact, as in accumulateInChunks

    // Merging into a default-constructed (channels == 0) stats adopts the channel count.
    ChannelStats fresh;
    fresh.merge(all);
    COMPARE_STATS(fresh, all);
}

void TestCalib::mergeEdgeCases()
{
    const ChannelStats all = statsOf(kX, kT);
    // An empty other is a no-op, even with a different channel count.
    ChannelStats s = all;
    ChannelStats emptyOther;
    emptyOther.reset(7);
    s.merge(emptyOther);
    COMPARE_STATS(s, all);

    // A non-empty other with a different channel count is refused and leaves s alone.
    const float row[2] = {1.0f, 2.0f};
    const ChannelStats twoCh = statsOf(row, 1, 2);
    QVERIFY_THROWS_EXCEPTION(Error, s.merge(twoCh));
    COMPARE_STATS(s, all);
}

// ---- histogram ----------------------------------------------------------------------------

void TestCalib::histBinEdges_data()
{
    QTest::addColumn<float>("value");
    QTest::addColumn<int>("bin");
    // bin = clamp(floor(log2 |x|) - kHistMinExp, 0, kHistBins - 1) = clamp(e + 24, 0, 39).
    QTest::newRow("zero") << 0.0f << 0;                                   // below everything -> 0
    QTest::newRow("denormal 1e-45") << 1e-45f << 0;                       // e = -149 -> clamped 0
    QTest::newRow("tiny 2^-30") << std::ldexp(1.0f, -30) << 0;            // -30+24 = -6 -> 0
    QTest::newRow("2^-24 (bin 0 lower edge)") << std::ldexp(1.0f, -24) << 0; // -24+24 = 0
    QTest::newRow("just below 2^-23") << std::nextafter(std::ldexp(1.0f, -23), 0.0f) << 0;
    QTest::newRow("2^-23") << std::ldexp(1.0f, -23) << 1;                  // -23+24 = 1
    QTest::newRow("0.25") << 0.25f << 22;                                  // -2+24
    QTest::newRow("0.5") << 0.5f << 23;                                    // -1+24
    QTest::newRow("just below 1") << std::nextafter(1.0f, 0.0f) << 23;     // e = -1
    QTest::newRow("1") << 1.0f << 24;                                      // 0+24
    QTest::newRow("1.5") << 1.5f << 24;                                    // floor(log2 1.5) = 0
    QTest::newRow("just below 2") << std::nextafter(2.0f, 0.0f) << 24;
    QTest::newRow("2") << 2.0f << 25;                                      // 1+24
    QTest::newRow("3") << 3.0f << 25;
    QTest::newRow("1024") << 1024.0f << 34;                                // 10+24
    QTest::newRow("just below 2^15") << std::nextafter(32768.0f, 0.0f) << 38; // 14+24
    QTest::newRow("2^15 (last bin lower edge)") << 32768.0f << 39;         // 15+24 = 39
    QTest::newRow("2^16") << 65536.0f << 39;                               // 40 -> clamped 39
    QTest::newRow("huge 1e30") << 1e30f << 39;                             // e = 99 -> 39
    QTest::newRow("FLT_MAX") << FLT_MAX << 39;                             // e = 127 -> 39
    QTest::newRow("+inf") << std::numeric_limits<float>::infinity() << 39; // e = 128 -> 39
}

void TestCalib::histBinEdges()
{
    QFETCH(float, value);
    QFETCH(int, bin);
    QCOMPARE(histBin(value), bin);
}

void TestCalib::histBinLowerEdges()
{
    // Exact: powers of two are exact in double.
    QCOMPARE(histBinLower(0), 0.0);                    // bin 0 starts at 0 (holds zero)
    QCOMPARE(histBinLower(1), std::ldexp(1.0, -23));   // 2^(1-24)
    QCOMPARE(histBinLower(24), 1.0);                   // 2^(24-24)
    QCOMPARE(histBinLower(25), 2.0);
    QCOMPARE(histBinLower(kHistBins - 1), 32768.0);    // 2^(39-24) = 2^15
    // Every lower edge of bins 1..39 falls in its own bin.
    for (int b = 1; b < kHistBins; ++b)
        QCOMPARE(histBin(float(histBinLower(b))), b);
}

void TestCalib::histogramOfMatrix()
{
    const ChannelStats s = statsOf(kX, kT);
    QCOMPARE(s.hist.size(), size_t(kK * kHistBins));
    auto h = [&](int c, int b) { return s.hist[size_t(c * kHistBins + b)]; };
    // c0 |x| = {1, 3, 1, 2}: 1 -> bin 24 (twice), 3 and 2 -> bin 25
    QCOMPARE(h(0, 24), 2u);
    QCOMPARE(h(0, 25), 2u);
    // c1 |x| = {2, 0.5, 2, 0.25}: 2 -> 25 (twice), 0.5 -> 23, 0.25 -> 22
    QCOMPARE(h(1, 25), 2u);
    QCOMPARE(h(1, 23), 1u);
    QCOMPARE(h(1, 22), 1u);
    // c2 |x| = {0, 4, 8, 0}: 0 -> bin 0 (twice), 4 -> 26, 8 -> 27
    QCOMPARE(h(2, 0), 2u);
    QCOMPARE(h(2, 26), 1u);
    QCOMPARE(h(2, 27), 1u);
    for (int c = 0; c < kK; ++c)
        QCOMPARE(histSum(s, c), uint32_t(kT));
}

void TestCalib::histogramCountsSumToCount()
{
    // Wide dynamic range (zeros, denormals, tiny, huge) over 3 calls.
    constexpr int64_t k = 5, rows = 37;
    std::vector<float> x(size_t(rows * k));
    uint32_t state = 12345u;
    for (float& v : x) {
        state = state * 1664525u + 1013904223u;
        const int e = int(state >> 24) % 100 - 50; // 2^-50 .. 2^49
        v = (state & 1u) ? std::ldexp(1.0f + float(state & 0xffu) / 256.0f, e) : 0.0f;
        if ((state & 6u) == 6u)
            v = -v;
    }
    x[3] = 1e-45f;
    ChannelStats s;
    s.reset(k);
    s.accumulate(x.data(), 10, "a");
    s.accumulate(x.data() + 10 * k, 20, "b");
    s.accumulate(x.data() + 30 * k, rows - 30, "c");
    QCOMPARE(s.count, rows);
    for (int64_t c = 0; c < k; ++c)
        QCOMPARE(histSum(s, c), uint32_t(rows));
}

// The pass works on blocks of one chunk's rows (kStatsChunkRows, 240) by tiles of 64 channels
// (halves of 32 in vector registers) with byte counters for the histogram. Against the plain
// definition, element by element (each chunk's float64 sums in row order from 0, added to the
// call's in chunk order): every field must be bit-identical (tolerance 0: min, max and counts are
// exact, and each channel's sums add the same terms in the same order). The shapes cross every
// boundary: one whole chunk (a count of 240 in one byte), a chunk and 15 rows, 600 rows in three
// chunks, a few rows; 173 channels = 64 + 64 + 32 + 13.
void TestCalib::accumulateMatchesElementwise_data()
{
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("k");
    QTest::addColumn<bool>("wide"); // every channel over 2^-40 .. 2^19: many windows of 8 bins
    QTest::addColumn<int>("kernel");
    for (const StatsKernel kernel : kStatsKernels) {
        const int kr = int(kernel);
        const char* name = statsKernelName(kernel);
        QTest::addRow("%s 240 x 173", name) << int(kStatsChunkRows) << 173 << false << kr;
        QTest::addRow("%s 255 x 173", name) << 255 << 173 << false << kr;
        QTest::addRow("%s 600 x 173", name) << 600 << 173 << false << kr;
        QTest::addRow("%s 7 x 64", name) << 7 << 64 << false << kr;
        QTest::addRow("%s 256 x 31", name) << 256 << 31 << false << kr;
        QTest::addRow("%s 1 x 96", name) << 1 << 96 << false << kr;
        QTest::addRow("%s 240 x 80 wide", name) << int(kStatsChunkRows) << 80 << true << kr;
        QTest::addRow("%s 1000 x 13 wide", name) << 1000 << 13 << true << kr;
    }
}

void TestCalib::accumulateMatchesElementwise()
{
    QFETCH(int, rows);
    QFETCH(int, k);
    QFETCH(bool, wide);
    QFETCH(int, kernel);
    const KernelRestore restore;
    if (!setStatsKernel(StatsKernel(kernel)))
        QSKIP("this CPU cannot run this kernel");
    std::vector<float> x(size_t(rows) * size_t(k));
    uint32_t state = 2024u;
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < k; ++c) {
            state = state * 1664525u + 1013904223u;
            float v;
            if (c == 5)
                v = 1.5f; // one bin for every row: a byte counter at a whole chunk's count
            else if (c == 70)
                v = (state & 1u) ? 0.0f : -0.0f; // zeros: bin 0
            else if (wide || c % 9 == 0) // wide range: 2^-40 .. 2^19, denormals and the last bin included
                v = std::ldexp(1.0f + float(state >> 24) / 256.0f, int((state >> 8) % 60u) - 40);
            else // a channel's own scale and spread, as in activations
                v = std::ldexp(float(int(state >> 8) % 4001 - 2000) / 1000.0f, c % 7 - 3);
            if ((state & 4u) != 0u)
                v = -v;
            x[size_t(r) * size_t(k) + size_t(c)] = v;
        }
    if (rows > 3 && k > 100) {
        x[size_t(3) * size_t(k) + 100] = 1e-45f; // the smallest denormal
        x[size_t(2) * size_t(k) + 101] = FLT_MAX;
    }
    ChannelStats want;
    want.reset(k);
    std::vector<double> sa(size_t(k), 0.0), ss(size_t(k), 0.0);   // the call's sums
    std::vector<double> csa(size_t(k), 0.0), css(size_t(k), 0.0); // a chunk's
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < k; ++c) {
            const float v = x[size_t(r) * size_t(k) + size_t(c)];
            want.min[size_t(c)] = std::min(want.min[size_t(c)], v);
            want.max[size_t(c)] = std::max(want.max[size_t(c)], v);
            csa[size_t(c)] += double(std::fabs(v));
            css[size_t(c)] += double(v) * double(v);
            ++want.hist[size_t(c * kHistBins + histBin(std::fabs(v)))];
        }
        if ((r + 1) % kStatsChunkRows == 0 || r + 1 == rows)
            for (int c = 0; c < k; ++c) {
                sa[size_t(c)] += std::exchange(csa[size_t(c)], 0.0);
                ss[size_t(c)] += std::exchange(css[size_t(c)], 0.0);
            }
    }
    for (int c = 0; c < k; ++c) {
        want.sumAbs[size_t(c)] += sa[size_t(c)];
        want.sumSq[size_t(c)] += ss[size_t(c)];
    }
    want.count = rows;
    const ChannelStats got = statsOf(x.data(), rows, k);
    COMPARE_STATS(got, want);
    if (k > 5)
        QCOMPARE(got.hist[size_t(5 * kHistBins + histBin(1.5f))], uint32_t(rows));
}

void TestCalib::statsKernelChoice()
{
    // The default is the last kernel of Scalar, AVX2, AVX-512, AVX-512 VBMI that the CPU runs
    // (each needs the one before); the scalar one runs anywhere.
    const StatsKernel chosen = statsKernel();
    StatsKernel best = StatsKernel::Scalar;
    for (const StatsKernel k : kStatsKernels) {
        if (setStatsKernel(k)) {
            QCOMPARE(statsKernel(), k);
            best = k;
        }
        StatsKernel parsed;
        QVERIFY(parseStatsKernel(statsKernelName(k), &parsed));
        QCOMPARE(parsed, k);
    }
    StatsKernel parsed;
    QVERIFY(!parseStatsKernel("sse9", &parsed));
    QVERIFY(setStatsKernel(chosen));
    QCOMPARE(chosen, best);
    qInfo("statistics kernel on this CPU: %s", statsKernelName(chosen));
}

void TestCalib::kernelsAgreeOnRandomShapes()
{
    // Every kernel the CPU runs against the scalar one (the definition) at tolerance 0, on 60
    // random shapes: 1..700 rows (up to three row blocks) over two calls, 1..300 channels (every
    // remainder of a 64- or 32-channel tile and of a half), and |x| over 0 to 40 octaves, zeros
    // included.
    const KernelRestore restore;
    std::mt19937 rng(7);
    for (int it = 0; it < 60; ++it) {
        const int rows = 1 + int(rng() % 700u), k = 1 + int(rng() % 300u), split = int(rng() % uint32_t(rows + 1));
        const int octaves = int(rng() % 41u), shift = int(rng() % 30u) - 20;
        std::vector<float> x(size_t(rows) * size_t(k));
        for (float& v : x) {
            const float mantissa = 1.0f + float(rng() >> 9) * 0x1p-23f;
            v = rng() % 53u == 0 ? 0.0f : std::ldexp(mantissa, int(rng() % uint32_t(octaves + 1)) + shift);
            if (rng() & 1u)
                v = -v;
        }
        std::vector<ChannelStats> byKernel;
        for (const StatsKernel kernel : kStatsKernels) {
            if (!setStatsKernel(kernel))
                continue;
            ChannelStats st;
            st.reset(k);
            st.accumulate(x.data(), split, "first");
            st.accumulate(x.data() + size_t(split) * size_t(k), rows - split, "second");
            byKernel.push_back(std::move(st));
        }
        QVERIFY(!byKernel.empty());
        for (size_t i = 1; i < byKernel.size(); ++i) {
            compareStats(byKernel[i], byKernel[0]);
            if (QTest::currentTestFailed()) {
                qWarning("shape %d x %d, split %d, kernel %zu of those this CPU runs", rows, k, split, i);
                return;
            }
        }
    }
}

void TestCalib::sameBitsAtAnyThreadCount()
{
    // Threads share a call's rows by whole chunks (at most 512 channels) or its channels by
    // 32-channel units (wider): at 1, 2 and 3 threads every field must be the same bits, for a
    // call of one chunk, of a chunk and a few rows, and of several chunks with a short last one,
    // after earlier calls (so that the first rows' min and max meet running totals), with the
    // rows given or made as the pass reads them. Zeros of both signs in one channel: min and max
    // keep the first of equal values whichever thread sees it.
    ThreadsRestore restore;
    std::mt19937 rng(11);
    for (const int k : {64, 172, 700}) {
        for (const int64_t rows : {kStatsChunkRows, kStatsChunkRows + 3, 5 * kStatsChunkRows + 77}) {
            std::vector<float> x(size_t(rows) * size_t(k));
            for (size_t i = 0; i < x.size(); ++i) {
                const float mantissa = 1.0f + float(rng() >> 9) * 0x1p-23f;
                x[i] = std::ldexp(mantissa, int(rng() % 30u) - 15) * ((rng() & 1u) ? -1.0f : 1.0f);
            }
            for (int64_t r = 0; r < rows; ++r) // channel 3: zeros only, -0 in the second half
                x[size_t(r) * size_t(k) + 3] = r >= rows / 2 ? -0.0f : 0.0f;
            std::vector<ChannelStats> byThreads;
            for (const int threads : {1, 2, 3}) {
                at::set_num_threads(threads);
                ChannelStats st;
                st.reset(k);
                st.accumulate(x.data(), 17, "first");
                st.accumulate(x.data(), rows, "second");
                byThreads.push_back(std::move(st));
                // The rows made as the pass goes (a maker, ForwardHook::observeAsMade): each
                // made exactly once, before it is read (the buffer starts as NaN, which would
                // throw), and the same bits.
                std::vector<float> y(x.size(), std::nanf(""));
                std::vector<int> made(size_t(rows), 0); // disjoint ranges: no two threads share a row
                ChannelStats sm;
                sm.reset(k);
                sm.accumulate(x.data(), 17, "first");
                sm.accumulate(y.data(), rows, "second", [&](int64_t r0, int64_t r1) {
                    std::copy(x.begin() + r0 * k, x.begin() + r1 * k, y.begin() + r0 * k);
                    for (int64_t r = r0; r < r1; ++r)
                        ++made[size_t(r)];
                });
                QVERIFY(std::all_of(made.begin(), made.end(), [](int n) { return n == 1; }));
                byThreads.push_back(std::move(sm));
            }
            for (size_t i = 1; i < byThreads.size(); ++i) {
                compareStats(byThreads[i], byThreads[0]);
                QVERIFY(!std::signbit(byThreads[i].min[3]) && !std::signbit(byThreads[i].max[3]));
                if (QTest::currentTestFailed()) {
                    qWarning("%lld rows x %d channels, %zu threads%s against 1", static_cast<long long>(rows), k,
                             i / 2 + 1, i % 2 ? ", rows made as read" : "");
                    return;
                }
            }
        }
    }
}

void TestCalib::hugeFiniteValuesAccepted()
{
    // FLT_MAX^2 overflows float but not double: the finite guard must not fire on it.
    const float x[2] = {FLT_MAX, -FLT_MAX};
    ChannelStats s;
    s.reset(1);
    s.accumulate(x, 2, "huge");
    QCOMPARE(s.count, int64_t(2));
    QVERIFY(s.min[0] == -FLT_MAX);
    QVERIFY(s.max[0] == FLT_MAX);
    QVERIFY(std::isfinite(s.sumSq[0]));
    QCOMPARE(s.hist[size_t(kHistBins - 1)], 2u);
}

// ---- NaN / Inf guard ----------------------------------------------------------------------

void TestCalib::nonFiniteThrowsAndKeepsStats_data()
{
    QTest::addColumn<float>("bad");
    QTest::addColumn<int>("row");
    QTest::addColumn<int>("channel");
    QTest::newRow("NaN at row 2, channel 1") << std::numeric_limits<float>::quiet_NaN() << 2 << 1;
    QTest::newRow("+Inf at row 0, channel 2") << std::numeric_limits<float>::infinity() << 0 << 2;
    QTest::newRow("-Inf at row 3, channel 0") << -std::numeric_limits<float>::infinity() << 3 << 0;
}

void TestCalib::nonFiniteThrowsAndKeepsStats()
{
    QFETCH(float, bad);
    QFETCH(int, row);
    QFETCH(int, channel);
    const std::string what = "input of model.layers.7.mlp_in";
    ChannelStats s = statsOf(kX, 2); // some history that must survive
    const ChannelStats before = s;
    float chunk[kT * kK];
    std::copy(kX, kX + kT * kK, chunk);
    chunk[row * kK + channel] = bad;
    bool thrown = false;
    try {
        s.accumulate(chunk, kT, what);
    } catch (const InputError& e) {
        thrown = true;
        const QString msg = QString::fromStdString(e.what());
        QVERIFY2(msg.contains(QString::fromStdString(what)), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("row %1").arg(row)), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("channel %1").arg(channel)), qPrintable(msg));
    }
    QVERIFY(thrown);
    COMPARE_STATS(s, before);
}

void TestCalib::nonFiniteMadeRowNamed()
{
    // Rows made as the pass reads them (several chunks, two threads): a NaN in a late chunk is
    // named by its row of the whole input, and the statistics are kept as they were.
    ThreadsRestore restore;
    at::set_num_threads(2);
    const int64_t rows = 3 * kStatsChunkRows + 20, k = 64;
    ChannelStats s;
    s.reset(k);
    std::vector<float> ones(size_t(k), 1.0f);
    s.accumulate(ones.data(), 1, "first");
    const ChannelStats before = s;
    std::vector<float> y(size_t(rows * k));
    bool thrown = false;
    try {
        s.accumulate(y.data(), rows, "input of g", [&](int64_t r0, int64_t r1) {
            for (int64_t i = r0 * k; i < r1 * k; ++i)
                y[size_t(i)] = i == 700 * k + 9 ? std::nanf("") : 0.5f;
        });
    } catch (const NonFiniteInput& e) {
        thrown = true;
        QVERIFY2(QString(e.what()).contains("row 700, channel 9"), e.what());
    }
    QVERIFY(thrown);
    COMPARE_STATS(s, before);
}

// ---- dispersion scores --------------------------------------------------------------------

void TestCalib::dispersionScores_data()
{
    QTest::addColumn<int>("form");
    QTest::addColumn<int>("c");
    QTest::addColumn<double>("expected");
    // From accumulatePerChannel: ranges |max-min| = 4, 4, 12; sum|x| = 7, 4.75, 12; mean|x| =
    // 1.75, 1.1875, 3.
    // Paper: range / ln(sum|x| + 1e-5)
    //   c0: 4 / ln(7.00001)   = 4 / 1.94591157763...  = 2.055591860386867
    //   c1: 4 / ln(4.75001)   = 4 / 1.55814672331...  = 2.567152335634455
    //   c2: 12 / ln(12.00001) = 12 / 2.48490748312... = 4.829153633087489
    QTest::newRow("paper c0") << int(DispersionForm::Paper) << 0 << 2.055591860386867;
    QTest::newRow("paper c1") << int(DispersionForm::Paper) << 1 << 2.567152335634455;
    QTest::newRow("paper c2") << int(DispersionForm::Paper) << 2 << 4.829153633087489;
    // Code: range / ln(1 + mean|x| + 1e-5)
    //   c0: 4 / ln(2.75001)   = 4 / 1.01160454804... = 3.954114290774828
    //   c1: 4 / ln(2.18751)   = 4 / 0.78276391067... = 5.110097623928148
    //   c2: 12 / ln(4.00001)  = 12 / 1.38629686112... = 8.656154635114088
    QTest::newRow("code c0") << int(DispersionForm::Code) << 0 << 3.954114290774828;
    QTest::newRow("code c1") << int(DispersionForm::Code) << 1 << 5.110097623928148;
    QTest::newRow("code c2") << int(DispersionForm::Code) << 2 << 8.656154635114088;
}

void TestCalib::dispersionScores()
{
    QFETCH(int, form);
    QFETCH(int, c);
    QFETCH(double, expected);
    const std::vector<double> d = mq::core::dispersionScores(statsOf(kX, kT), DispersionForm(form));
    QCOMPARE(d.size(), size_t(kK));
    // 1e-9 relative: doubles throughout (a few ulps from log and one division); the literals
    // carry 16 significant digits.
    QVERIFY2(relClose(d[size_t(c)], expected, 1e-9),
             qPrintable(QStringLiteral("got %1, expected %2").arg(d[size_t(c)], 0, 'g', 17).arg(expected, 0, 'g', 17)));
}

void TestCalib::dispersionScoresEmptyAndConstant()
{
    ChannelStats empty;
    empty.reset(3);
    for (DispersionForm f : {DispersionForm::Paper, DispersionForm::Code})
        QCOMPARE(mq::core::dispersionScores(empty, f), std::vector<double>(3, 0.0));
    // A constant channel has range 0 and so D = 0 exactly in both forms.
    const float x[3] = {5.0f, 5.0f, 5.0f};
    const ChannelStats constant = statsOf(x, 3, 1);
    for (DispersionForm f : {DispersionForm::Paper, DispersionForm::Code})
        QCOMPARE(mq::core::dispersionScores(constant, f), std::vector<double>(1, 0.0));
}

// ---- StatsCollector -----------------------------------------------------------------------

namespace {

struct Batch {
    int group;
    at::Tensor x, tags;
};

std::vector<Batch> mixedBatches()
{
    at::manual_seed(20240611);
    std::vector<Batch> out;
    for (int i = 0; i < 12; ++i) {
        const int group = i % 2;
        const int64_t k = group == 0 ? 3 : 5;
        const int64_t rows = 3 + i;
        at::Tensor x = at::randn({rows, k}) * double(i + 1);
        at::Tensor tags;
        if (i % 3 == 0)
            tags = at::zeros({rows}, at::kByte); // text only: the collector's fast path
        else
            tags = at::randint(0, 2, {rows}, at::kLong).mul(3).to(at::kByte); // 0 text / 3 audio
        out.push_back({group, x, tags});
    }
    return out;
}

std::map<std::string, InputStats> collect(const std::vector<Batch>& batches, bool async)
{
    StatsCollector col({"g0", "g1"}, {3, 5}, async);
    for (const Batch& b : batches)
        col.onLinearInput(b.group, b.x, b.tags);
    return col.finish();
}

// The hand matrix kX as a [4, 3] tensor.
at::Tensor handTensor()
{
    return at::from_blob(const_cast<float*>(kX), {kT, kK}, at::kFloat).clone();
}

} // namespace

void TestCalib::collectorAsyncEqualsInline()
{
    const std::vector<Batch> batches = mixedBatches();
    const auto a = collect(batches, true);
    const auto b = collect(batches, false);
    QCOMPARE(a.size(), size_t(2));
    QCOMPARE(b.size(), size_t(2));
    for (const char* g : {"g0", "g1"}) {
        QVERIFY(a.count(g) && b.count(g));
        // Exact: both modes accumulate each group's batches in the same order with the same code.
        for (int m = 0; m < kNumModalities; ++m)
            COMPARE_STATS(a.at(g).perModality[size_t(m)], b.at(g).perModality[size_t(m)]);
        COMPARE_STATS(a.at(g).pooled, b.at(g).pooled);
        QVERIFY(a.at(g).perModality[size_t(Modality::Text)].count > 0);
        QVERIFY(a.at(g).perModality[size_t(Modality::Audio)].count > 0);
    }
}

void TestCalib::collectorRoutesModalities_data()
{
    QTest::addColumn<bool>("async");
    QTest::newRow("async") << true;
    QTest::newRow("inline") << false;
}

void TestCalib::collectorRoutesModalities()
{
    QFETCH(bool, async);
    StatsCollector col({"layers.0.attn_in"}, {kK}, async);
    // Batch 1: kX with tags text, audio, text, audio (the per-modality path).
    const uint8_t tags1[kT] = {0, 3, 0, 3};
    col.onLinearInput(0, handTensor(), at::from_blob(const_cast<uint8_t*>(tags1), {kT}, at::kByte).clone());
    // Batch 2: one audio row (the single-modality fast path).
    const float extra[kK] = {0.5f, 4.0f, -16.0f};
    col.onLinearInput(0, at::from_blob(const_cast<float*>(extra), {1, kK}, at::kFloat).clone(),
                      at::full({1}, 3, at::kByte));
    const auto out = col.finish();
    QCOMPARE(out.size(), size_t(1));
    const InputStats& st = out.at("layers.0.attn_in");

    // All sums exact (dyadic values), so tolerance 0.
    // Text = rows 0 and 2: {1,-2,0}, {-1,2,8}
    //   c0 {1,-1}: min -1 max 1 sum|x| 2 sum x^2 2; c1 {-2,2}: -2, 2, 4, 8; c2 {0,8}: 0, 8, 8, 64
    const ChannelStats& text = st.perModality[size_t(Modality::Text)];
    QCOMPARE(text.count, int64_t(2));
    QCOMPARE(text.min, (std::vector<float>{-1.0f, -2.0f, 0.0f}));
    QCOMPARE(text.max, (std::vector<float>{1.0f, 2.0f, 8.0f}));
    QCOMPARE(text.sumAbs, (std::vector<double>{2.0, 4.0, 8.0}));
    QCOMPARE(text.sumSq, (std::vector<double>{2.0, 8.0, 64.0}));
    // Audio = rows 1 and 3 plus the extra row: {3,0.5,-4}, {2,-0.25,0}, {0.5,4,-16}
    //   c0 {3,2,0.5}: min 0.5 max 3 sum|x| 5.5 sum x^2 9+4+0.25 = 13.25
    //   c1 {0.5,-0.25,4}: min -0.25 max 4 sum|x| 4.75 sum x^2 0.25+0.0625+16 = 16.3125
    //   c2 {-4,0,-16}: min -16 max 0 sum|x| 20 sum x^2 16+0+256 = 272
    const ChannelStats& audio = st.perModality[size_t(Modality::Audio)];
    QCOMPARE(audio.count, int64_t(3));
    QCOMPARE(audio.min, (std::vector<float>{0.5f, -0.25f, -16.0f}));
    QCOMPARE(audio.max, (std::vector<float>{3.0f, 4.0f, 0.0f}));
    QCOMPARE(audio.sumAbs, (std::vector<double>{5.5, 4.75, 20.0}));
    QCOMPARE(audio.sumSq, (std::vector<double>{13.25, 16.3125, 272.0}));
    QVERIFY(st.perModality[size_t(Modality::Image)].empty());
    QVERIFY(st.perModality[size_t(Modality::Video)].empty());
    // Pooled: count 5; c0 min -1 max 3 sum|x| 2+5.5 = 7.5 sum x^2 2+13.25 = 15.25;
    //   c1 -2, 4, 4+4.75 = 8.75, 8+16.3125 = 24.3125; c2 -16, 8, 8+20 = 28, 64+272 = 336
    QCOMPARE(st.pooled.count, int64_t(5));
    QCOMPARE(st.pooled.min, (std::vector<float>{-1.0f, -2.0f, -16.0f}));
    QCOMPARE(st.pooled.max, (std::vector<float>{3.0f, 4.0f, 8.0f}));
    QCOMPARE(st.pooled.sumAbs, (std::vector<double>{7.5, 8.75, 28.0}));
    QCOMPARE(st.pooled.sumSq, (std::vector<double>{15.25, 24.3125, 336.0}));
    // Pooled equals the merge of the modalities, histogram included.
    ChannelStats merged;
    merged.reset(kK);
    merged.merge(text);
    merged.merge(audio);
    COMPARE_STATS(st.pooled, merged);

    // A tag past the last modality is refused wherever it is: the first row, a later row of a
    // batch that starts with a valid one, or every row.
    for (const std::vector<uint8_t>& bad : {std::vector<uint8_t>{4, 0, 0, 0}, std::vector<uint8_t>{0, 0, 9, 0},
                                            std::vector<uint8_t>{200, 200, 200, 200}}) {
        StatsCollector c({"layers.0.attn_in"}, {kK}, false);
        try {
            c.onLinearInput(0, handTensor(), at::from_blob(const_cast<uint8_t*>(bad.data()), {kT}, at::kByte).clone());
            QFAIL("expected an InputError");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("modality tag out of range"), e.what());
        }
    }
}

void TestCalib::collectorNaNThrows_data()
{
    QTest::addColumn<bool>("async");
    QTest::newRow("async") << true;
    QTest::newRow("inline") << false;
}

void TestCalib::collectorNaNThrows()
{
    QFETCH(bool, async);
    StatsCollector col({"g0", "layers.2.mlp_in"}, {kK, kK}, async);
    col.onLinearInput(0, handTensor(), at::zeros({kT}, at::kByte));
    at::Tensor bad = handTensor();
    bad[1][2] = std::numeric_limits<float>::quiet_NaN();
    const uint8_t tags[kT] = {0, 3, 0, 3};
    const at::Tensor badTags = at::from_blob(const_cast<uint8_t*>(tags), {kT}, at::kByte).clone();
    QString msg;
    bool thrownByHook = false, thrownByFinish = false;
    try {
        col.onLinearInput(1, bad, badTags);
    } catch (const InputError& e) {
        thrownByHook = true;
        msg = QString::fromStdString(e.what());
    }
    if (!thrownByHook) {
        try {
            col.finish();
        } catch (const InputError& e) {
            thrownByFinish = true;
            msg = QString::fromStdString(e.what());
        }
    }
    // Inline accumulates inside the hook, so the error comes from there; async defers it to
    // finish() (the last batch, so no later hook call can pick it up first).
    if (async) {
        QVERIFY(!thrownByHook);
        QVERIFY(thrownByFinish);
    } else {
        QVERIFY(thrownByHook);
    }
    QVERIFY2(msg.contains(QStringLiteral("layers.2.mlp_in")), qPrintable(msg));
    QVERIFY2(msg.contains(QStringLiteral("channel 2")), qPrintable(msg));
}

void TestCalib::collectorNaNMessageNamesBatchRow()
{
    // A NaN in row 3 of a mixed text/audio batch. The hook's rows are batch * tokens, so
    // "row 3" is the position a person can act on.
    StatsCollector col({"layers.2.mlp_in"}, {kK}, false);
    at::Tensor bad = handTensor();
    bad[3][1] = std::numeric_limits<float>::quiet_NaN();
    const uint8_t tags[kT] = {0, 3, 0, 3};
    QString msg;
    try {
        col.onLinearInput(0, bad, at::from_blob(const_cast<uint8_t*>(tags), {kT}, at::kByte).clone());
    } catch (const InputError& e) {
        msg = QString::fromStdString(e.what());
    }
    QVERIFY(!msg.isEmpty());
    QVERIFY2(msg.contains(QStringLiteral("channel 1")), qPrintable(msg));
    // The row is the hook input's row, not its position inside the audio rows (which is 1).
    QVERIFY2(msg.contains(QStringLiteral("row 3")), qPrintable(msg));
}

void TestCalib::boxSummaryTukey()
{
    // {1..5} and 100 in shuffled order: positions 0.25 * 5 = 1.25 -> 2.25, 2.5 -> 3.5, 3.75 ->
    // 4.75 (numpy's linear interpolation); IQR 2.5, fences -1.5 and 8.5: 100 is the one outlier,
    // the whiskers end at 1 and 5. Exact in binary floating point.
    const BoxSummary b = boxSummary({5, 100, 1, 4, 2, 3});
    QCOMPARE(b.q1, 2.25);
    QCOMPARE(b.median, 3.5);
    QCOMPARE(b.q3, 4.75);
    QCOMPARE(b.lowerWhisker, 1.0);
    QCOMPARE(b.upperWhisker, 5.0);
    QCOMPARE(b.outliers, std::vector<double>{100.0});
    // No spread: every value is the box, nothing is an outlier.
    const BoxSummary flat = boxSummary({2, 2, 2});
    QCOMPARE(flat.median, 2.0);
    QCOMPARE(flat.lowerWhisker, 2.0);
    QVERIFY(flat.outliers.empty());
    QCOMPARE(boxSummary({}).median, 0.0);
}

QTEST_APPLESS_MAIN(TestCalib)
#include "tst_calib.moc"
