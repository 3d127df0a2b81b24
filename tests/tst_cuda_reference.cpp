// The GPU kernels' CPU references (core/cuda/reference.h) against the engine's own CPU code:
// the arithmetic each kernel is checked against on a GPU (cuda_selftest) is the engine's. Runs
// everywhere; the last case says whether this build has the kernels and a GPU to run them on.
#include <ATen/ATen.h>

#include "test_util.h"

#include "calib/channel_stats.h"
#include "calib/collector.h"
#include "common/runtime.h"
#include "cuda/kernels.h"
#include "cuda/reference.h"
#include "quant/act_quant.h"
#include "quant/dabc.h"
#include "quant/mdqfo.h"
#include "quant/quant_linear.h"
#include "quant/weight_quant.h"

#include <QtTest/QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace mq;

namespace {

at::Tensor activations(int64_t T, int64_t K, uint64_t seed)
{
    at::manual_seed(seed);
    at::Tensor x = at::randn({T, K});
    // A few outlier channels, tiny ones and exact zeros, as real Linear inputs have.
    x.index_put_({at::indexing::Slice(), at::indexing::Slice(5, K, 97)}, x.index({at::indexing::Slice(), at::indexing::Slice(5, K, 97)}) * 60);
    x.index_put_({at::indexing::Slice(), at::indexing::Slice(0, K, 13)}, x.index({at::indexing::Slice(), at::indexing::Slice(0, K, 13)}) * 1e-4);
    x.index_put_({at::indexing::Slice(0, T, 3), at::indexing::Slice(2, K, 11)}, 0.0);
    return x.contiguous();
}

bool sameBits(const float* a, const float* b, size_t n)
{
    return std::memcmp(a, b, n * sizeof(float)) == 0;
}

// The fused linear's bf16 output y [T, N] against the engine's float32 want: within bf16's
// rounding of the output (2^-9 relative, 2^-8 allowed), the bf16 roundings of each residual and
// masked weight (2^-9 each, of dabcMag = |r| |w|^T summed), float32 summation order (1e-5 of
// denseMag = |x_hat| |w|^T) and 1e-6 absolute. Empty when every element is within; else the
// first one that is not.
QString outsideBf16Bound(const std::vector<uint16_t>& y, const at::Tensor& want, const at::Tensor& dabcMag,
                         const at::Tensor& denseMag)
{
    const int64_t T = want.size(0), N = want.size(1);
    for (int64_t t = 0; t < T; ++t)
        for (int64_t n = 0; n < N; ++n) {
            const double g = cuda::ref::fromBf16(y[size_t(t * N + n)]);
            const double e = want[t][n].item<double>();
            const double bound = std::ldexp(std::fabs(e), -8) + std::ldexp(dabcMag[t][n].item<double>(), -7)
                + 1e-5 * denseMag[t][n].item<double>() + 1e-6;
            if (std::fabs(g - e) > bound)
                return QString("y[%1, %2] = %3, engine %4, bound %5").arg(t).arg(n).arg(g).arg(e).arg(bound);
        }
    return {};
}

} // namespace

class TestCudaReference : public QObject {
    Q_OBJECT
private slots:
    // Per modality, the reference's accumulators equal ChannelStats::accumulate over that
    // modality's rows bit for bit (both sum in float64 chunks of kStatsChunkRows rows, each in
    // row order), over two calls; the second call has several chunks of each modality.
    void statsEqualChannelStats()
    {
        const int64_t T = 150 + 3 * core::kStatsChunkRows * 3 + 41, K = 203;
        const int M = 3;
        at::Tensor x = activations(T, K, 7);
        std::vector<uint8_t> mod(static_cast<size_t>(T));
        for (int64_t r = 0; r < T; ++r)
            mod[size_t(r)] = uint8_t((r / 17 + r % 2) % M);
        cuda::ref::Stats s;
        s.reset(K, M);
        cuda::ref::channelStats(x.data_ptr<float>(), mod.data(), 150, K, s);
        cuda::ref::channelStats(x.data_ptr<float>() + 150 * K, mod.data() + 150, T - 150, K, s);
        QCOMPARE(s.nonFinite, uint64_t(0));
        for (int m = 0; m < M; ++m) {
            // The engine's collector: per call, the rows of each modality as one batch.
            core::ChannelStats cs;
            cs.reset(K);
            for (const auto& [r0, r1] : {std::pair<int64_t, int64_t>{0, 150}, {150, T}}) {
                std::vector<float> rows;
                for (int64_t r = r0; r < r1; ++r)
                    if (mod[size_t(r)] == m)
                        rows.insert(rows.end(), x.data_ptr<float>() + r * K, x.data_ptr<float>() + (r + 1) * K);
                cs.accumulate(rows.data(), int64_t(rows.size()) / K, "x");
            }
            QCOMPARE(s.count[size_t(m)], uint64_t(cs.count));
            const size_t o = size_t(m) * size_t(K);
            QVERIFY(sameBits(s.min.data() + o, cs.min.data(), size_t(K)));
            QVERIFY(sameBits(s.max.data() + o, cs.max.data(), size_t(K)));
            QVERIFY(std::memcmp(s.sumAbs.data() + o, cs.sumAbs.data(), size_t(K) * 8) == 0);
            QVERIFY(std::memcmp(s.sumSq.data() + o, cs.sumSq.data(), size_t(K) * 8) == 0);
            QVERIFY(std::equal(cs.hist.begin(), cs.hist.end(), s.hist.begin() + long(o * cuda::kHistBins)));
        }
        // The bin rule is the engine's for every float's exponent.
        for (float a : {0.f, 1e-30f, 5.96e-8f, 1.f, 1.5f, 2.f, 65504.f, 3e38f, std::numeric_limits<float>::denorm_min()})
            QCOMPARE(cuda::ref::histBin(a), core::histBin(a));
    }

    // Non-finite elements are counted and left out; rows of an unknown modality are skipped.
    void statsNonFiniteAndUnknownModality()
    {
        const float x[] = {1.f, NAN, -2.f, INFINITY, 3.f, 4.f};
        const uint8_t mod[] = {0, 0, 5};
        cuda::ref::Stats s;
        s.reset(2, 2);
        cuda::ref::channelStats(x, mod, 3, 2, s);
        QCOMPARE(s.nonFinite, uint64_t(2));
        QCOMPARE(s.count[0], uint64_t(2));
        QCOMPARE(s.count[1], uint64_t(0));
        QCOMPARE(s.min[0], -2.f);
        QCOMPARE(s.max[0], 1.f);
        QCOMPARE(s.sumAbs[0], 3.0);
        QCOMPARE(s.min[1], std::numeric_limits<float>::infinity()); // channel 1: both values non-finite
    }

    // The grid reference is the engine's CPU kernel over all ratios at once; gridScoresCpu runs
    // it over ratio ranges in parallel: the same scores bit for bit, for every exponent form,
    // DABC with and without rho, other bit widths, K not a multiple of the CPU's four lanes.
    void gridEqualsGridScoresCpu_data()
    {
        QTest::addColumn<int>("T");
        QTest::addColumn<int>("K");
        QTest::addColumn<double>("p");
        QTest::addColumn<double>("rho");
        QTest::addColumn<int>("bits");
        QTest::newRow("p2") << 64 << 203 << 2.0 << 0.0 << 4;
        QTest::newRow("p1 rho") << 33 << 128 << 1.0 << 0.5 << 4;
        QTest::newRow("p3") << 20 << 77 << 3.0 << 0.0 << 3;
        QTest::newRow("p4 rho") << 20 << 77 << 4.0 << 0.25 << 8;
        QTest::newRow("p0.5") << 20 << 64 << 0.5 << 0.0 << 4;
        QTest::newRow("p1.5") << 20 << 65 << 1.5 << 0.0 << 4;
        QTest::newRow("one row") << 1 << 5 << 2.0 << 0.0 << 4;
    }
    void gridEqualsGridScoresCpu()
    {
        QFETCH(int, T);
        QFETCH(int, K);
        QFETCH(double, p);
        QFETCH(double, rho);
        QFETCH(int, bits);
        at::Tensor x = activations(T, K, uint64_t(T * 1000 + K));
        at::Tensor a0 = x.abs().amax(0).clamp_min(1e-8).contiguous();
        at::Tensor mask = at::zeros({K});
        mask.index_put_({at::indexing::Slice(5, K, 97)}, 1.0);
        mask.index_put_({at::indexing::Slice(1, K, 31)}, 1.0);
        core::MdqfoSettings st;
        st.p = p;
        st.lambdaCos = 0.7;
        std::vector<double> ratios;
        for (int j = 0; j < 9; ++j)
            ratios.push_back(std::exp(std::log(0.6) + (std::log(1.0) - std::log(0.6)) * j / 8.0));
        at::Tensor want = core::gridScoresCpu(x, a0, mask, ratios, bits, rho, st).contiguous();
        cuda::GridParams prm;
        prm.abits = bits;
        prm.rho = rho;
        prm.p = p;
        prm.lambdaCos = st.lambdaCos;
        const std::vector<float> got = cuda::ref::gridScores(x.data_ptr<float>(), T, K, a0.data_ptr<float>(),
                                                             mask.contiguous().data_ptr<float>(), ratios, prm);
        QCOMPARE(int64_t(got.size()), want.numel());
        QVERIFY(sameBits(got.data(), want.data_ptr<float>(), got.size()));
    }

    // The W4A4 + DABC reference against the engine's simulated path: per-token 4-bit
    // activations (fakeQuantPerToken), per-channel 4-bit weights, and dabcLinear's compensation
    // of the masked channels. The dequantized activations are the engine's bit for bit; the
    // output differs only by bf16 roundings (the residuals, the masked weight columns and the
    // output, each 2^-9 relative) and float32 summation order, bounded below.
    void w4a4MatchesDabcLinear_data()
    {
        QTest::addColumn<double>("rho");
        QTest::addColumn<bool>("bias");
        QTest::newRow("rho 0") << 0.0 << false;
        QTest::newRow("rho 0.5, bias") << 0.5 << true;
    }
    void w4a4MatchesDabcLinear()
    {
        QFETCH(double, rho);
        QFETCH(bool, bias);
        const int64_t T = 9, K = 128, N = 24;
        at::Tensor x = activations(T, K, 11).to(at::kBFloat16).to(at::kFloat); // bf16 inputs, as the kernel's
        at::manual_seed(3);
        at::Tensor w = at::randn({N, K});
        // Weights: symmetric per-output-channel int4 in [-7, 7].
        at::Tensor sw = (w.abs().amax(1) / 7.0).clamp_min(1e-12);
        at::Tensor wi = at::clamp(at::round(w / sw.unsqueeze(1)), -7, 7);
        at::Tensor wq = (wi * sw.unsqueeze(1)).contiguous();
        std::vector<int32_t> masked;
        at::Tensor mask = at::zeros({K});
        for (int64_t c = 5; c < K; c += 97) {
            masked.push_back(int32_t(c));
            mask[c] = 1.0;
        }
        for (int64_t c = 40; c < 44; ++c) {
            masked.push_back(int32_t(c));
            mask[c] = 1.0;
        }
        std::sort(masked.begin(), masked.end());
        const int Mk = int(masked.size());
        at::Tensor b = bias ? at::randn({N}).to(at::kBFloat16).to(at::kFloat) : at::Tensor();

        std::vector<uint16_t> xb(static_cast<size_t>(T * K));
        for (int64_t i = 0; i < T * K; ++i)
            xb[size_t(i)] = cuda::ref::toBf16(x.data_ptr<float>()[i]);
        std::vector<int8_t> a;
        std::vector<float> ts;
        std::vector<uint16_t> res;
        cuda::ref::quantizeActivations(xb, T, K, nullptr, masked, float(rho), a, ts, res);
        // Dequantized activations: the engine's per-token quantizer, bit for bit.
        at::Tensor xq = core::fakeQuantPerToken(x, 4).contiguous();
        for (int64_t t = 0; t < T; ++t)
            for (int64_t c = 0; c < K; ++c)
                QCOMPARE(float(a[size_t(t * K + c)]) * ts[size_t(t)], xq[t][c].item<float>());

        std::vector<int8_t> wv(static_cast<size_t>(N * K));
        for (int64_t i = 0; i < N * K; ++i)
            wv[size_t(i)] = int8_t(wi.data_ptr<float>()[i]);
        std::vector<float> swv(sw.data_ptr<float>(), sw.data_ptr<float>() + N);
        std::vector<uint16_t> wm(static_cast<size_t>(N * Mk)), bb;
        for (int64_t n = 0; n < N; ++n)
            for (int m = 0; m < Mk; ++m)
                wm[size_t(n * Mk + m)] = cuda::ref::toBf16(wq[n][masked[size_t(m)]].item<float>());
        if (bias)
            for (int64_t n = 0; n < N; ++n)
                bb.push_back(cuda::ref::toBf16(b[n].item<float>()));
        std::vector<int32_t> acc;
        std::vector<uint16_t> y;
        cuda::ref::w4a4Linear(a, ts, wv, swv, res, wm, Mk, bb, T, N, K, acc, y);
        // The integer sums are exact.
        at::Tensor ai = at::empty({T, K});
        for (int64_t i = 0; i < T * K; ++i)
            ai.data_ptr<float>()[i] = float(a[size_t(i)]);
        at::Tensor accWant = at::matmul(ai.to(at::kDouble), wi.to(at::kDouble).t());
        for (int64_t i = 0; i < T * N; ++i)
            QCOMPARE(double(acc[size_t(i)]), accWant.data_ptr<double>()[i]);

        at::Tensor alpha = (x.abs().amax(1, true) / 7.0).clamp_min(1e-12) * 7.0; // the per-token bound, for rho
        at::Tensor want = at::empty({T, N});
        for (int64_t t = 0; t < T; ++t) {
            // dabcLinear's rho test is per channel (alpha [K]); per token it is this row's bound.
            at::Tensor row = x.narrow(0, t, 1), rowq = xq.narrow(0, t, 1);
            want.narrow(0, t, 1).copy_(core::dabcLinear(row, rowq, wq, b, mask, alpha[t].expand({K}).contiguous(), rho));
        }
        // Bound: bf16 of the output (2^-9 relative) plus the bf16 roundings of each residual and
        // masked weight (2^-9 each, relative to |r| |w| summed), plus float32 order (1e-5 of the
        // dense magnitude).
        at::Tensor r = (x - xq) * mask;
        const QString bad = outsideBf16Bound(y, want, at::matmul(r.abs(), wq.abs().t()), at::matmul(xq.abs(), wq.abs().t()));
        QVERIFY2(bad.isEmpty(), qPrintable(bad));
    }

    // The static form of the fused kernel is the engine's deployable mode (README "Deployable
    // mode"): activation codes round(x / s_c) with s_c = alpha_c / 7, weights Q(W diag(s)) as
    // integers, the DABC term with W' diag(1/s) over the masked channels' residuals. The
    // reference's output equals x_hat W_eff^T of the engine (fakeQuantPerChannel,
    // compensatedInput, foldQuantWeight) within the bf16 roundings bounded as above.
    void w4a4StaticIsDeployableMode()
    {
        const int64_t T = 7, K = 192, N = 16;
        at::Tensor x = activations(T, K, 21).to(at::kBFloat16).to(at::kFloat);
        at::Tensor alpha = (x.abs().amax(0) * 0.8).clamp_min(1e-3).contiguous();
        at::Tensor s = (alpha / 7.0).clamp_min(1e-12).contiguous();
        at::manual_seed(9);
        at::Tensor w = at::randn({N, K});
        core::WeightQuantSpec spec;
        spec.format = core::WeightFormat::Int;
        spec.bits = 4;
        at::Tensor weff = core::foldQuantWeight(w, s, spec);            // Q(W diag s) diag(1/s)
        at::Tensor wq = core::fakeQuantWeight(w * s.unsqueeze(0), spec); // Q(W diag s)
        at::Tensor sn = wq.abs().amax(1) / 7.0;
        at::Tensor codes = at::round(wq / sn.unsqueeze(1));
        QVERIFY(codes.abs().max().item<float>() <= 7.f);
        QVERIFY(at::allclose(codes * sn.unsqueeze(1), wq, 1e-6, 0.0)); // integers times one scale a row
        at::Tensor mask = at::zeros({K});
        std::vector<int32_t> masked;
        for (int64_t c = 5; c < K; c += 97) {
            masked.push_back(int32_t(c));
            mask[c] = 1.0;
        }
        const int Mk = int(masked.size());
        at::Tensor xhat = core::compensatedInput(x, core::fakeQuantPerChannel(x, alpha, 4), mask, alpha, 0.0);
        at::Tensor want = at::matmul(xhat, weff.t());

        std::vector<uint16_t> xb(static_cast<size_t>(T * K));
        for (int64_t i = 0; i < T * K; ++i)
            xb[size_t(i)] = cuda::ref::toBf16(x.data_ptr<float>()[i]);
        std::vector<int8_t> a, wv(static_cast<size_t>(N * K));
        std::vector<float> ts;
        std::vector<uint16_t> res, wm(static_cast<size_t>(N * Mk)), y;
        cuda::ref::quantizeActivations(xb, T, K, s.data_ptr<float>(), masked, 0.f, a, ts, res);
        for (int64_t i = 0; i < N * K; ++i)
            wv[size_t(i)] = int8_t(codes.data_ptr<float>()[i]);
        for (int64_t n = 0; n < N; ++n)
            for (int m = 0; m < Mk; ++m)
                wm[size_t(n * Mk + m)] = cuda::ref::toBf16(weff[n][masked[size_t(m)]].item<float>());
        std::vector<float> swv(sn.data_ptr<float>(), sn.data_ptr<float>() + N);
        std::vector<int32_t> acc;
        cuda::ref::w4a4Linear(a, ts, wv, swv, res, wm, Mk, {}, T, N, K, acc, y);
        at::Tensor r = (x - core::fakeQuantPerChannel(x, alpha, 4)) * mask;
        const QString bad =
            outsideBf16Bound(y, want, at::matmul(r.abs(), weff.abs().t()), at::matmul(xhat.abs(), weff.abs().t()));
        QVERIFY2(bad.isEmpty(), qPrintable(bad));
    }

    // --device cuda in the engine: the collector's statistics and MDQFO's grid search on the
    // kernels equal the CPU path's (min, max, counts, histograms exactly; sums 1e-12 relative;
    // the chosen bounds in all but the rare channel whose best ratio ties within 2 ulps).
    // Needs a GPU: skipped, saying why, without one.
    void engineOnGpuMatchesCpu()
    {
        const cuda::DeviceInfo d = cuda::probe();
        if (!d.available)
            QSKIP(qPrintable(QString::fromStdString("no GPU to run the kernels on: " + d.reason)));
        const int64_t T = 700, K = 520;
        at::Tensor x = activations(T, K, 5);
        at::Tensor tags = at::zeros({T}, at::kByte);
        tags.narrow(0, 200, 300).fill_(1);
        tags.narrow(0, 600, 100).fill_(3);
        auto collect = [&](bool gpu) {
            core::enableCudaKernels(gpu);
            core::StatsCollector c({"g"}, {K}, false);
            c.onLinearInput(0, x.narrow(0, 0, 350), tags.narrow(0, 0, 350));
            c.onLinearInput(0, x.narrow(0, 350, T - 350), tags.narrow(0, 350, T - 350));
            return c.finish().at("g");
        };
        const core::InputStats cpu = collect(false), gpu = collect(true);
        for (int m = 0; m < core::kNumModalities; ++m) {
            const core::ChannelStats &a = cpu.perModality[size_t(m)], &b = gpu.perModality[size_t(m)];
            QCOMPARE(b.count, a.count);
            QVERIFY(b.min == a.min && b.max == a.max && b.hist == a.hist);
            for (int64_t c = 0; c < K; ++c) {
                QVERIFY(std::fabs(b.sumAbs[size_t(c)] - a.sumAbs[size_t(c)]) <= 1e-12 * std::fabs(a.sumAbs[size_t(c)]));
                QVERIFY(std::fabs(b.sumSq[size_t(c)] - a.sumSq[size_t(c)]) <= 1e-12 * std::fabs(a.sumSq[size_t(c)]));
            }
        }
        at::Tensor alpha0 = x.abs().amax(0).clamp_min(1e-8);
        at::Tensor mask = at::zeros({K});
        mask.index_put_({at::indexing::Slice(5, K, 97)}, 1.0);
        core::DabcSettings dabc;
        core::MdqfoSettings st;
        core::enableCudaKernels(false);
        const core::MdqfoResult rc = core::optimizeClipping(x, alpha0, mask, 4, dabc, st);
        core::enableCudaKernels(true);
        const core::MdqfoResult rg = core::optimizeClipping(x, alpha0, mask, 4, dabc, st);
        core::enableCudaKernels(false);
        // The simulated path's NVFP4 and MXFP4 (weights and activations): exact.
        at::Tensor xs = x.narrow(1, 0, 500); // 500 = 31 blocks of 16 and a partial one (padding)
        const at::Tensor nvCpu = core::fakeQuantBlockFormat(xs, core::WeightFormat::NVFP4);
        const at::Tensor mxCpu = core::fakeQuantBlockFormat(xs, core::WeightFormat::MXFP4);
        core::enableCudaKernels(true);
        QVERIFY(at::equal(core::fakeQuantBlockFormat(xs, core::WeightFormat::NVFP4), nvCpu));
        QVERIFY(at::equal(core::fakeQuantBlockFormat(xs, core::WeightFormat::MXFP4), mxCpu));
        core::enableCudaKernels(false);
        int same = 0;
        for (int64_t c = 0; c < K; ++c)
            same += rc.alpha[size_t(c)] == rg.alpha[size_t(c)];
        QVERIFY2(same >= K * 99 / 100, qPrintable(QString("%1 of %2 bounds equal").arg(same).arg(K)));
    }

    // Without nvcc the entry points say why; with it and no GPU, probe says so.
    void probeSaysWhy()
    {
        const cuda::DeviceInfo d = cuda::probe();
        if (!cuda::built()) {
            QVERIFY(!d.available);
            QVERIFY(d.reason.find("no CUDA kernels") != std::string::npos);
            QVERIFY_THROWS_EXCEPTION(cuda::Error, cuda::Buffer(16));
        } else if (!d.available) {
            QVERIFY(!d.reason.empty());
            qInfo("CUDA kernels built; %s", d.reason.c_str());
        } else {
            qInfo("CUDA device: %s (sm_%d); cuda_selftest checks the kernels", d.name.c_str(), d.sm);
        }
    }
};

QTEST_GUILESS_MAIN(TestCudaReference)
#include "tst_cuda_reference.moc"
