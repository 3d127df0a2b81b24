// Tokens/s of the full-precision forward, with and without statistics collection, on a model
// folder and a JSONL token file (default: ../shared/models/stories260K and its calibration set).
// usage: bench_forward [MODEL_DIR [DATA.jsonl [REPEATS [THREADS [BATCH]]]]]
// MQ_STATS_KERNEL and MQ_ATTENTION_LANES choose the kernels (kernel_env.h); MQ_BENCH_ROUNDS=1
// prints each round's three times; MQ_BENCH_INTERLEAVED=N runs only the batch-by-batch
// comparison below, N rounds (on a loaded machine, more rounds in the same time).
// Also times:
// - the inline collector against the forward batch by batch (each batch's two forwards back to
//   back), whose pairing resists this machine's load changes better than whole rounds;
// - the statistics pass alone (ChannelStats::accumulate, at the run's thread count) on the
//   forward's own Linear inputs, captured once, each in the cache: its cost per token against
//   the forward's, free of the run-to-run noise of timing two whole forwards;
// - what the collector adds call by call (callCosts): the inputs the decoder makes, made alone,
//   made and then passed over, and made as the pass reads them, each call's minimum summed.
#include "kernel_env.h"

#include "calib/channel_stats.h"
#include "calib/collector.h"
#include "common/runtime.h"
#include "eval/perplexity.h"
#include "io/token_data.h"
#include "model/attention_kernel.h"
#include "model/decoder.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

using namespace mq::core;

namespace {

// Each Linear input group's channel count, for a StatsCollector.
std::vector<int64_t> groupWidths(const DecoderModel& m)
{
    std::vector<int64_t> ch;
    for (size_t g = 0; g < m.groups().size(); ++g)
        ch.push_back(m.groupChannels(int(g)));
    return ch;
}

double runOnce(const DecoderModel& m, const TokenDataset& d, int batch, int mode)
{
    c10::InferenceMode guard;
    const std::vector<int64_t> ch = groupWidths(m);
    const auto t0 = std::chrono::steady_clock::now();
    if (mode == 0) {
        for (const auto& b : equalLengthBatches(d, batch))
            m.forward(batchTensor(d, b));
    } else {
        StatsCollector c(m.groups(), ch, mode == 1);
        for (const auto& b : equalLengthBatches(d, batch))
            m.forward(batchTensor(d, b), &c);
        c.finish();
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One round of the calibration set with the two inline modes interleaved batch by batch: each
// batch's plain forward and its forward with the inline collector, back to back (which goes
// first alternates), so that a change of machine load that lasts longer than two batches'
// forwards (about 50 ms here) hits both alike. plain / stats: each batch's seconds (stats' last
// entry is the collector's finish()).
void interleavedRound(const DecoderModel& m, const TokenDataset& d, int batch, int round, std::vector<double>& plain,
                      std::vector<double>& stats)
{
    c10::InferenceMode guard;
    const std::vector<int64_t> ch = groupWidths(m);
    StatsCollector c(m.groups(), ch, false);
    plain.clear();
    stats.clear();
    int i = round;
    for (const auto& b : equalLengthBatches(d, batch)) {
        const at::Tensor tokens = batchTensor(d, b);
        for (int k = 0; k < 2; ++k) {
            const bool withStats = (k + i) % 2 == 1;
            const auto t0 = std::chrono::steady_clock::now();
            m.forward(tokens, withStats ? &c : nullptr);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            (withStats ? stats : plain).push_back(seconds);
        }
        ++i;
    }
    const auto t0 = std::chrono::steady_clock::now();
    c.finish();
    stats.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

// Keeps a copy of every Linear input group's input of the forwards it sees.
class Capture : public ForwardHook {
public:
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor&) override
    {
        inputs.push_back({group, x.clone()});
        return x;
    }
    std::vector<std::pair<int, at::Tensor>> inputs;
};

// The statistics pass over the captured inputs, as the inline collector runs it for text.
// Every batch's Linear inputs, in forward order.
Capture capture(const DecoderModel& m, const TokenDataset& d, int batch)
{
    c10::InferenceMode guard;
    Capture cap;
    for (const auto& b : equalLengthBatches(d, batch))
        m.forward(batchTensor(d, b), &cap);
    return cap;
}

double statsOnce(const Capture& cap, const std::vector<int64_t>& channels)
{
    std::vector<ChannelStats> st(channels.size());
    for (size_t g = 0; g < channels.size(); ++g)
        st[g].reset(channels[g]);
    // Each input once untimed first, so that it is in the cache as the forward leaves it.
    double seconds = 0;
    for (const auto& [g, x] : cap.inputs) {
        st[size_t(g)].accumulate(x.data_ptr<float>(), x.size(0), "x");
        const auto t0 = std::chrono::steady_clock::now();
        st[size_t(g)].accumulate(x.data_ptr<float>(), x.size(0), "x");
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return seconds;
}

// The same through the inline collector (its per-call work included: the modality tags, the
// per-modality routing, the call's partial results), each input warmed first as above.
double collectorOnce(const DecoderModel& m, const Capture& cap, const std::vector<int64_t>& channels)
{
    StatsCollector warm(m.groups(), channels, false), c(m.groups(), channels, false);
    double seconds = 0;
    for (const auto& [g, x] : cap.inputs) {
        const at::Tensor tags = at::zeros({x.size(0)}, at::kByte);
        warm.onLinearInput(g, x, tags);
        const auto t0 = std::chrono::steady_clock::now();
        c.onLinearInput(g, x, tags);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const auto t0 = std::chrono::steady_clock::now();
    c.finish();
    return seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// What the inline collector adds to the forward, call by call, on the captured inputs (each
// variant timed alternately, `reps` times, its minimum kept: a call takes 20-200 us here, short
// enough for the minimum to escape this machine's load): for an input the decoder makes
// (RowProduct: RMSNorm's last products, silu(gate) * up; timed on the captured input with
// factors of one, the same arithmetic), making it alone (the plain forward's step), making it
// and then running the statistics pass over it (a separate parallel region), and making it as
// the pass reads it (ChannelStats::accumulate with a maker, as the collector now takes it);
// for o_proj's input, the pass alone. Prints the sums over the calibration set, in ms. The
// collector's own per-call bookkeeping (tags, names) is left out: "inline collector alone"
// against "statistics pass alone" shows it.
void callCosts(const DecoderModel& m, const Capture& cap, double forwardSeconds, int reps)
{
    double make = 0, separate = 0, fused = 0, others = 0;
    const auto seconds = [](const auto& f) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    for (const auto& [g, x] : cap.inputs) {
        const std::string& name = m.groups()[size_t(g)];
        const auto ends = [&](const std::string& tail) {
            return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
        };
        const int64_t rows = x.size(0), k = x.size(1);
        std::unique_ptr<RowProduct> p;
        if (ends("qkv_in") || ends("gate_up_in"))
            p = RowProduct::scaled(x, at::ones({rows, 1}), at::ones({k}));
        else if (ends("down_in"))
            p = RowProduct::product(x, at::ones_like(x));
        ChannelStats st;
        st.reset(k);
        double a = 1e30, b = 1e30, c = 1e30;
        for (int r = 0; r < reps; ++r) {
            if (!p) {
                a = std::min(a, seconds([&] { st.accumulate(x.data_ptr<float>(), rows, "x"); }));
                continue;
            }
            a = std::min(a, seconds([&] { (void)p->compute(); }));
            b = std::min(b, seconds([&] {
                const at::Tensor y = p->compute();
                st.accumulate(y.data_ptr<float>(), rows, "x");
            }));
            c = std::min(c, seconds([&] {
                const at::Tensor y = at::empty({rows, k}, at::kFloat);
                float* py = y.data_ptr<float>();
                st.accumulate(py, rows, "x", [&](int64_t r0, int64_t r1) { p->compute(py, r0, r1); });
            }));
        }
        if (!p) {
            others += a;
        } else {
            make += a;
            separate += b;
            fused += c;
        }
    }
    std::printf("per call, min of %d: made inputs: made %.2f ms, made then the pass %.2f ms, made as the pass reads "
                "%.2f ms; o_proj inputs' pass %.2f ms\n",
                reps, make * 1e3, separate * 1e3, fused * 1e3, others * 1e3);
    std::printf("inline cost, sum of calls: the pass apart %.2f ms (+%.1f%%), made as read %.2f ms (+%.1f%%) of a "
                "%.2f ms forward\n",
                (separate - make + others) * 1e3, 100.0 * (separate - make + others) / forwardSeconds,
                (fused - make + others) * 1e3, 100.0 * (fused - make + others) / forwardSeconds, forwardSeconds * 1e3);
}

// The inline collector against the forward batch by batch (interleavedRound), `rounds` rounds:
// the median of the rounds' ratios, and the ratio of the sums of each batch's fastest time (the
// machine's load only ever adds time, so a batch's minimum over the rounds is its least
// disturbed figure).
double interleavedRounds(const DecoderModel& m, const TokenDataset& d, int batch, int rounds)
{
    std::vector<double> fine, plainMin, statsMin, plain, stats;
    for (int r = 0; r < rounds; ++r) {
        interleavedRound(m, d, batch, r, plain, stats);
        double p = 0, s = 0;
        for (double v : plain)
            p += v;
        for (double v : stats)
            s += v;
        fine.push_back(s / p);
        plainMin.resize(plain.size(), 1e30);
        statsMin.resize(stats.size(), 1e30);
        for (size_t i = 0; i < plain.size(); ++i)
            plainMin[i] = std::min(plainMin[i], plain[i]);
        for (size_t i = 0; i < stats.size(); ++i)
            statsMin[i] = std::min(statsMin[i], stats[i]);
    }
    std::sort(fine.begin(), fine.end());
    double pm = 0, sm = 0;
    for (double v : plainMin)
        pm += v;
    for (double v : statsMin)
        sm += v;
    const auto quantile = [](const std::vector<double>& v, double q) {
        return v[size_t(q * double(v.size() - 1) + 0.5)];
    };
    std::printf("%-26s interleaved by batch: median %.3fx, quartiles %.3f-%.3f; per-batch minima %.3fx "
                "(%.2f / %.2f ms)\n",
                "forward + stats (inline)", quantile(fine, 0.5), quantile(fine, 0.25), quantile(fine, 0.75), sm / pm,
                sm * 1e3, pm * 1e3);
    return pm;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string dir = argc > 1 ? argv[1] : std::string(MQ_SHARED_DIR) + "/models/stories260K";
    const std::string data = argc > 2 ? argv[2] : dir + "/calibration.jsonl";
    const int repeats = argc > 3 ? std::atoi(argv[3]) : 7;
    const int threads = argc > 4 ? std::atoi(argv[4]) : int(std::thread::hardware_concurrency());
    const int batch = argc > 5 ? std::atoi(argv[5]) : 8;
    initRuntime(threads);
    if (!mq::bench::applyKernelEnvironment())
        return 2;
    DecoderModel m = DecoderModel::load(dir);
    TokenDataset d = loadTokenDataset(data, m.config().vocabSize);
    if (const char* only = std::getenv("MQ_BENCH_INTERLEAVED")) { // that measurement alone, as many rounds
        runOnce(m, d, batch, 0);                                   // warm-up
        std::printf("model %s, data %s: batch %d, %d threads, %d interleaved rounds, statistics kernel %s\n",
                    dir.c_str(), data.c_str(), batch, at::get_num_threads(), std::atoi(only),
                    statsKernelName(statsKernel()));
        const double plainMinima = interleavedRounds(m, d, batch, std::max(1, std::atoi(only)));
        callCosts(m, capture(m, d, batch), plainMinima, 50);
        return 0;
    }
    const double tokens = double(d.totalTokens());
    const char* names[3] = {"forward", "forward + stats (async)", "forward + stats (inline)"};
    std::vector<double> best(3, 1e30), last(3, 0.0);
    // Each round's ratio against that round's forward: its median and quartiles resist a load
    // change that hits one mode's best time (the machine's noise is of the size of the effect).
    std::vector<std::vector<double>> paired(3);
    std::vector<double> times; // the plain forward's, round by round: the machine's noise
    runOnce(m, d, batch, 0); // warm-up
    // Interleave the modes so drift in machine load hits all of them alike; keep the best.
    for (int r = 0; r < repeats; ++r) {
        for (int mode = 0; mode < 3; ++mode) {
            last[size_t(mode)] = runOnce(m, d, batch, mode);
            best[size_t(mode)] = std::min(best[size_t(mode)], last[size_t(mode)]);
        }
        for (int mode = 1; mode < 3; ++mode)
            paired[size_t(mode)].push_back(last[size_t(mode)] / last[0]);
        times.push_back(last[0]);
        if (std::getenv("MQ_BENCH_ROUNDS"))
            std::printf("round %d: %.2f %.2f %.2f ms\n", r, last[0] * 1e3, last[1] * 1e3, last[2] * 1e3);
    }
    std::printf("model %s, data %s: %.0f tokens, batch %d, %d threads, best of %d, statistics kernel %s, "
                "attention kernel of %d lanes\n",
                dir.c_str(), data.c_str(), tokens, batch, at::get_num_threads(), repeats, statsKernelName(statsKernel()),
                attentionLanes());
    for (int mode = 0; mode < 3; ++mode)
        std::printf("%-26s %10.0f tokens/s  %8.2f ms  %.3fx\n", names[mode], tokens / best[size_t(mode)],
                    best[size_t(mode)] * 1e3, best[size_t(mode)] / best[0]);
    std::sort(times.begin(), times.end());
    const auto quantile = [](const std::vector<double>& v, double q) {
        return v[size_t(q * double(v.size() - 1) + 0.5)];
    };
    std::printf("%-26s spread of rounds: median %.2f ms, quartiles %.2f-%.2f\n", names[0], quantile(times, 0.5) * 1e3,
                quantile(times, 0.25) * 1e3, quantile(times, 0.75) * 1e3);
    for (int mode = 1; mode < 3; ++mode) {
        std::vector<double> v = paired[size_t(mode)];
        std::sort(v.begin(), v.end());
        std::printf("%-26s paired rounds: median %.3fx, quartiles %.3f-%.3f\n", names[mode], quantile(v, 0.5),
                    quantile(v, 0.25), quantile(v, 0.75));
    }
    interleavedRounds(m, d, batch, repeats);
    // The statistics pass alone, on the forward's own activations (at these widths, threads
    // share a call's chunks of rows).
    const Capture cap = capture(m, d, batch);
    const std::vector<int64_t> ch = groupWidths(m);
    int64_t elements = 0;
    for (const auto& [g, x] : cap.inputs)
        elements += x.numel();
    double statsBest = 1e30;
    for (int r = 0; r < std::max(repeats, 5) * 3; ++r)
        statsBest = std::min(statsBest, statsOnce(cap, ch));
    double collectorBest = 1e30;
    for (int r = 0; r < std::max(repeats, 5) * 3; ++r)
        collectorBest = std::min(collectorBest, collectorOnce(m, cap, ch));
    std::printf("inline collector alone     %10.2f ms  %.3f ns/element  +%.1f%% of the forward\n", collectorBest * 1e3,
                collectorBest * 1e9 / double(elements), 100.0 * collectorBest / best[0]);
    std::printf("statistics pass alone      %10.2f ms  %.3f ns/element  %.0f elements/token  +%.1f%% of the forward\n",
                statsBest * 1e3, statsBest * 1e9 / double(elements), double(elements) / tokens,
                100.0 * statsBest / best[0]);
    callCosts(m, cap, best[0], 50);
    return 0;
}
