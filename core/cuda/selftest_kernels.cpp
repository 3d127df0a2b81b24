// cuda_selftest: statistics, grid scoring and FP4 kernels against their CPU references.
#include "cuda/kernels.h"
#include "cuda/reference.h"
#include "cuda/selftest.h"

#include "quant/formats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace mq::cuda::selftest {

namespace {

// Activations with the shape of real ones: mostly small, a few channels with large outliers,
// some exact zeros and values spanning the histogram's range.
std::vector<float> activations(int64_t rows, int64_t K, uint32_t seed)
{
    std::mt19937 g(seed);
    std::normal_distribution<float> n(0.f, 1.f);
    std::vector<float> x(size_t(rows * K));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < K; ++c) {
            float v = n(g);
            if (c % 97 == 5)
                v *= 60.f;           // outlier channels
            if (c % 13 == 0)
                v *= 1e-4f;          // tiny ones
            if ((r * K + c) % 211 == 0)
                v = 0.f;
            x[size_t(r * K + c)] = v;
        }
    return x;
}

template <typename T> Buffer upload(const std::vector<T>& v)
{
    Buffer b(std::max<size_t>(1, v.size() * sizeof(T)));
    if (!v.empty())
        b.upload(v.data(), v.size() * sizeof(T));
    return b;
}

template <typename T> std::vector<T> download(const Buffer& b, size_t n)
{
    std::vector<T> v(n);
    if (n)
        b.download(v.data(), n * sizeof(T));
    return v;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

double maxRelDiff(const std::vector<double>& a, const std::vector<double>& b)
{
    double m = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(a[i] - b[i]) / std::max(std::fabs(b[i]), 1e-300);
        m = std::max(m, a[i] == b[i] ? 0.0 : d);
    }
    return m;
}

std::string shape(int64_t r, int64_t k) { return "[" + std::to_string(r) + ", " + std::to_string(k) + "]"; }

} // namespace

void testStats(Report& rep)
{
    struct Case { int64_t rows, K; int M; bool runs; };
    for (const Case cs : {Case{1, 1, 1, false}, Case{300, 130, 1, false}, Case{777, 3584, 4, true}, Case{64, 1000, 3, false},
                          Case{2048, 18944 / 8, 4, true}}) {
        std::vector<float> x = activations(cs.rows, cs.K, uint32_t(cs.rows * 31 + cs.K));
        x[size_t((cs.rows / 2) * cs.K)] = std::numeric_limits<float>::quiet_NaN(); // counted, left out
        std::vector<uint8_t> mod(size_t(cs.rows));
        for (int64_t r = 0; r < cs.rows; ++r) // runs of modalities (as samples give), or every row a new one
            mod[size_t(r)] = uint8_t(cs.runs ? (r / 37) % cs.M : r % cs.M);
        ref::Stats want;
        want.reset(cs.K, cs.M);
        // Two calls: the accumulators carry over.
        const int64_t half = cs.rows / 2;
        ref::channelStats(x.data(), mod.data(), half, cs.K, want);
        ref::channelStats(x.data() + half * cs.K, mod.data() + half, cs.rows - half, cs.K, want);

        const size_t n = size_t(cs.M) * size_t(cs.K);
        Buffer bx = upload(x), bm = upload(mod), bmin(n * 4), bmax(n * 4), bsa(n * 8), bss(n * 8),
               bh(n * kHistBins * 4), bc(size_t(cs.M) * 8), bbad(8);
        StatsOut o;
        o.min = bmin.as<float>();
        o.max = bmax.as<float>();
        o.sumAbs = bsa.as<double>();
        o.sumSq = bss.as<double>();
        o.hist = bh.as<uint32_t>();
        o.count = bc.as<unsigned long long>();
        o.nonFinite = bbad.as<unsigned long long>();
        statsReset(o, cs.K, cs.M);
        channelStats(bx.as<float>(), bm.as<uint8_t>(), half, cs.K, cs.M, o);
        channelStats(bx.as<float>() + half * cs.K, bm.as<uint8_t>() + half, cs.rows - half, cs.K, cs.M, o);
        synchronize();
        const auto mn = download<float>(bmin, n), mx = download<float>(bmax, n);
        const auto sa = download<double>(bsa, n), ss = download<double>(bss, n);
        const auto h = download<uint32_t>(bh, n * kHistBins);
        const auto c = download<unsigned long long>(bc, size_t(cs.M));
        const auto bad = download<unsigned long long>(bbad, 1);
        const std::string what = "statistics " + shape(cs.rows, cs.K) + " M=" + std::to_string(cs.M);
        bool exact = mn == want.min && mx == want.max && h == want.hist && bad[0] == want.nonFinite;
        for (int m = 0; m < cs.M; ++m)
            exact = exact && c[size_t(m)] == want.count[size_t(m)];
        rep.check(exact, what + ": min, max, histogram, counts and non-finite count exact");
        // Sums: float64 in another order (atomics across row chunks); each term is exact in
        // float64 (a float's |x| or square), so the relative difference is at most about
        // rows * 2^-53: 1e-12 leaves room.
        const double d = std::max(maxRelDiff(sa, want.sumAbs), maxRelDiff(ss, want.sumSq));
        rep.check(d <= 1e-12, what + ": sums within 1e-12 relative (max " + std::to_string(d) + ")");
    }
}

void testGrid(Report& rep)
{
    struct Case { int64_t T, K; int n; double p, rho, lambda; int bits; };
    for (const Case cs : {Case{1, 7, 1, 2.0, 0.0, 1.0, 4}, Case{100, 300, 15, 2.0, 0.0, 1.0, 4},
                          Case{512, 3584, 15, 2.0, 0.5, 1.0, 4}, Case{37, 513, 70, 1.0, 0.0, 0.5, 3},
                          Case{64, 256, 5, 3.0, 0.0, 1.0, 4}, Case{64, 256, 5, 4.0, 0.3, 1.0, 8},
                          Case{64, 256, 5, 0.5, 0.0, 1.0, 4}, Case{64, 256, 5, 1.5, 0.0, 1.0, 4},
                          Case{256, 18944, 15, 2.0, 0.0, 1.0, 4}}) {
        const std::vector<float> x = activations(cs.T, cs.K, uint32_t(cs.T + 7 * cs.K + cs.n));
        std::vector<float> a0(size_t(cs.K), 0.f), mask(size_t(cs.K), 0.f);
        for (int64_t t = 0; t < cs.T; ++t)
            for (int64_t c = 0; c < cs.K; ++c)
                a0[size_t(c)] = std::max(a0[size_t(c)], std::fabs(x[size_t(t * cs.K + c)]));
        for (int64_t c = 0; c < cs.K; ++c) {
            a0[size_t(c)] = std::max(a0[size_t(c)], 1e-8f);
            mask[size_t(c)] = c % 97 == 5 ? 1.f : 0.f;
        }
        std::vector<double> ratios(size_t(cs.n));
        for (int j = 0; j < cs.n; ++j)
            ratios[size_t(j)] = cs.n == 1 ? 1.0 : std::exp(std::log(0.6) + (std::log(1.0) - std::log(0.6)) * j / (cs.n - 1));
        GridParams prm;
        prm.abits = cs.bits;
        prm.p = cs.p;
        prm.rho = cs.rho;
        prm.lambdaCos = cs.lambda;
        const std::vector<float> want = ref::gridScores(x.data(), cs.T, cs.K, a0.data(), mask.data(), ratios, prm);
        Buffer bx = upload(x), ba = upload(a0), bm = upload(mask), bs(want.size() * 4),
               bw(gridScoresWorkspaceBytes(cs.T, cs.K, cs.n));
        gridScores(bx.as<float>(), cs.T, cs.K, ba.as<float>(), bm.as<float>(), ratios.data(), cs.n, prm, bs.as<float>(),
                   bw.get());
        synchronize();
        const std::vector<float> got = download<float>(bs, want.size());
        // Elements, their errors and each row's products are the CPU's bit for bit (IEEE
        // division, no FMA); only the order of the float64 sums differs (rows split in chunks,
        // the cosine's products in a tree), about 1e-15 relative before the float32 rounding of
        // the score: 2 float ulps (2.4e-7) cover it. For p outside {0.5, 1, 2, 3, 4} the GPU's
        // powf (2 ulp) replaces glibc's, so 1e-6.
        const bool exactPow = cs.p == 2.0 || cs.p == 1.0 || cs.p == 3.0 || cs.p == 4.0 || cs.p == 0.5;
        const double tol = exactPow ? 2.4e-7 : 1e-6;
        double worst = 0.0;
        size_t argminSame = 0;
        for (size_t i = 0; i < want.size(); ++i)
            worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])) / std::max(std::fabs(double(want[i])), 1e-30));
        for (int64_t c = 0; c < cs.K; ++c) {
            int bw1 = 0, bw2 = 0;
            for (int j = 1; j < cs.n; ++j) {
                if (want[size_t(j * cs.K + c)] < want[size_t(bw1 * cs.K + c)]) bw1 = j;
                if (got[size_t(j * cs.K + c)] < got[size_t(bw2 * cs.K + c)]) bw2 = j;
            }
            argminSame += bw1 == bw2;
        }
        const std::string what = "grid scores " + shape(cs.T, cs.K) + " ratios=" + std::to_string(cs.n) + " p="
            + std::to_string(cs.p) + " rho=" + std::to_string(cs.rho) + " bits=" + std::to_string(cs.bits);
        rep.check(worst <= tol, what + ": within " + std::to_string(tol) + " relative (max " + std::to_string(worst) + ")");
        rep.check(argminSame >= size_t(cs.K) * 999 / 1000,
                  what + ": the best ratio agrees in " + std::to_string(argminSame) + " of " + std::to_string(cs.K)
                      + " channels (ties within the tolerance may flip)");
    }
}

void testFp4(Report& rep)
{
    for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{1, 32}, {7, 64}, {300, 3584}, {64, 18944}}) {
        std::vector<float> x = activations(rows, cols, uint32_t(rows * cols));
        // Edge values: exact ties of E2M1, a zero block, subnormal-range scales, huge values.
        for (int i = 0; i < 32 && i < cols; ++i)
            x[size_t(i)] = 0.f;
        if (rows > 1) {
            const float ties[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.f, -0.25f, 6.f, -7.f, 1e-30f, 3e38f, 1e-40f, 448.f, -5.f, 0.5f};
            for (int i = 0; i < 16; ++i)
                x[size_t(cols + i)] = ties[i];
        }
        const std::string what = "formats " + shape(rows, cols);
        // NVFP4: the tensor's own global scale and a shared one.
        for (const bool shared : {false, true}) {
            float amax = 0.f;
            for (float v : x)
                if (std::isfinite(v))
                    amax = std::max(amax, std::fabs(v));
            const float g = shared ? 3.5f : core::fmt::nvfp4GlobalScale(amax);
            std::vector<uint8_t> wantCodes, wantScales;
            ref::nvfp4Quantize(x.data(), rows, cols, g, wantCodes, wantScales);
            Buffer bx = upload(x), bc(wantCodes.size()), bs(wantScales.size()), bo(x.size() * 4), bf(x.size() * 4), bam(4);
            nvfp4Quantize(bx.as<float>(), rows, cols, g, bc.as<uint8_t>(), bs.as<uint8_t>());
            nvfp4Dequantize(bc.as<uint8_t>(), bs.as<uint8_t>(), rows, cols, g, bo.as<float>());
            nvfp4FakeQuant(bx.as<float>(), rows, cols, g, bf.as<float>());
            absMax(bx.as<float>(), int64_t(x.size()), bam.as<float>());
            synchronize();
            const auto codes = download<uint8_t>(bc, wantCodes.size()), scales = download<uint8_t>(bs, wantScales.size());
            std::vector<float> deq(x.size());
            core::fmt::Nvfp4 q = core::fmt::nvfp4Quantize(x.data(), rows, cols, g);
            core::fmt::nvfp4Dequantize(q, deq.data());
            rep.check(codes == wantCodes && scales == wantScales,
                      what + (shared ? " NVFP4 (given global scale)" : " NVFP4") + ": codes and scales exact");
            rep.check(sameBits(download<float>(bo, x.size()), deq) && sameBits(download<float>(bf, x.size()), deq),
                      what + " NVFP4: dequantized and fake-quantized values exact");
            if (!shared)
                rep.check(download<float>(bam, 1)[0] == amax, what + ": absMax exact");
        }
        for (const bool even : {false, true}) {
            std::vector<float> xm = x;
            if (rows > 2)
                xm[size_t(2 * cols + 3)] = std::numeric_limits<float>::infinity(); // a 0xFF block
            std::vector<uint8_t> wantCodes, wantScales;
            ref::mxfp4Quantize(xm.data(), rows, cols, even, wantCodes, wantScales);
            Buffer bx = upload(xm), bc(wantCodes.size()), bs(wantScales.size()), bo(xm.size() * 4), bf(xm.size() * 4);
            mxfp4Quantize(bx.as<float>(), rows, cols, even, bc.as<uint8_t>(), bs.as<uint8_t>());
            mxfp4Dequantize(bc.as<uint8_t>(), bs.as<uint8_t>(), rows, cols, bo.as<float>());
            mxfp4FakeQuant(bx.as<float>(), rows, cols, even, bf.as<float>());
            synchronize();
            std::vector<float> deq(xm.size());
            core::fmt::mxfp4Dequantize(
                core::fmt::mxfp4Quantize(xm.data(), rows, cols, even ? core::fmt::MxRule::Even : core::fmt::MxRule::Floor),
                deq.data());
            const std::string w = what + (even ? " MXFP4 (even rule)" : " MXFP4");
            rep.check(download<uint8_t>(bc, wantCodes.size()) == wantCodes && download<uint8_t>(bs, wantScales.size()) == wantScales,
                      w + ": codes and scales exact");
            // NaN blocks compare by bits too (both write the same quiet NaN only if the payloads
            // agree, so compare NaN-ness there).
            auto same = [&](const std::vector<float>& a) {
                for (size_t i = 0; i < a.size(); ++i)
                    if (!(std::isnan(a[i]) ? std::isnan(deq[i]) : std::memcmp(&a[i], &deq[i], 4) == 0))
                        return false;
                return true;
            };
            rep.check(same(download<float>(bo, xm.size())) && same(download<float>(bf, xm.size())),
                      w + ": dequantized and fake-quantized values exact");
        }
    }
}

} // namespace mq::cuda::selftest
