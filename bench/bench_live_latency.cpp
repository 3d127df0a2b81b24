// Latency of the workbench's live tuning on one layer (the target: 0.5 s per stories260K
// layer). Opens, calibrates and quantizes once through the Engine (morphoquant W4A4, full
// calibration set, the GUI's default previewRows), then times what a control change triggers:
//   (a) a DABC threshold change: core::computeMasks on the session copy the GUI hands its mask
//       worker (widgets/mask_job.cpp: modules, groups, stats, plans), copy included. It
//       recomputes every input group of the model, not only one layer's, so it bounds the
//       per-layer cost from above;
//   (b) an MDQFO p / lambda_cos change: Engine::replanGroups on the layer's input groups (what
//       MainWindow::requestPreview asks for), with the copy PreviewJob makes;
//   (c) a threshold change as the GUI chains it: (a), then (b) with the new masks.
// Each is run REPEATS times with settings cycling through a few values (never two equal
// requests in a row) after one warm-up; median and max are printed in ms.
// usage: bench_live_latency [MODEL_DIR [CALIB.jsonl [REPEATS [THREADS [LAYER]]]]] ("" = default)
//        LAYER -1 (default): the layer with the most input channels (first of equals)
#include "common/runtime.h"
#include "engine.h"
#include "quant/dabc_mask.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace mq::core;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Timing {
    double medianMs = 0.0, maxMs = 0.0;
};

// One warm-up call, then `repeats` timed calls of fn(i).
Timing timeIt(int repeats, const std::function<void(int)>& fn)
{
    fn(-1);
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = Clock::now();
        fn(i);
        ms.push_back(secondsSince(t0) * 1e3);
    }
    std::sort(ms.begin(), ms.end());
    const size_t n = ms.size();
    Timing t;
    t.medianMs = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
    t.maxMs = ms.back();
    return t;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string dir = argc > 1 && *argv[1] ? argv[1] : std::string(MQ_SHARED_DIR) + "/models/stories260K";
    const std::string calib = argc > 2 && *argv[2] ? argv[2] : dir + "/calibration.jsonl";
    const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 20;
    const int threads = initRuntime(argc > 4 ? std::atoi(argv[4]) : 0);
    int layer = argc > 5 ? std::atoi(argv[5]) : -1;

    Engine engine;
    Session s;
    QuantSettings st;
    st.method = "morphoquant";
    st.weight.format = WeightFormat::Int;
    st.weight.bits = 4;
    st.abits = 4;
    auto t0 = Clock::now();
    engine.openModel(s, dir);
    engine.calibrate(s, {calib, "tokens", 8, ""});
    const double calibS = secondsSince(t0);
    t0 = Clock::now();
    engine.quantize(s, st);
    const double quantS = secondsSince(t0);
    const QuantSettings plan = *s.settings;

    // The layer's input groups, in network order; by default the layer with the most channels.
    std::map<int, std::vector<std::string>> groupsOf;
    std::map<int, int64_t> channelsOf;
    for (const ModuleInfo& m : s.modules) {
        std::vector<std::string>& g = groupsOf[m.layer];
        if (std::find(g.begin(), g.end(), m.inputGroup) == g.end()) {
            g.push_back(m.inputGroup);
            channelsOf[m.layer] += m.inFeatures;
        }
    }
    if (layer < 0)
        for (const auto& [l, k] : channelsOf)
            if (layer < 0 || k > channelsOf[layer])
                layer = l;
    if (!groupsOf.count(layer)) {
        std::fprintf(stderr, "no layer %d in %s\n", layer, dir.c_str());
        return 2;
    }
    const std::vector<std::string>& groups = groupsOf[layer];
    int64_t rows = 0;
    for (const auto& [name, st2] : s.stats)
        rows = std::max(rows, st2.pooled.count);

    std::printf("model %s, calibration %s (%lld rows per input group), %d threads, %d repeats\n", dir.c_str(),
        calib.c_str(), static_cast<long long>(rows), threads, repeats);
    std::printf("set-up: open + calibrate %.2f s, quantize (%s) %.2f s; previewRows %d\n", calibS, plan.label().c_str(),
        quantS, engine.previewRows);
    std::printf("layer %d: %zu input groups, %lld input channels (", layer, groups.size(),
        static_cast<long long>(channelsOf[layer]));
    for (size_t i = 0; i < groups.size(); ++i)
        std::printf("%s%s", i ? ", " : "", groups[i].c_str());
    std::printf(")\n\n");

    // (a) DABC threshold change: k cycles, so every call computes a different mask.
    const double ks[] = {1.5, 2.0, 2.5, 3.0};
    Timing maskT = timeIt(repeats, [&](int i) {
        Session c = maskInputs(s);
        DabcSettings d = plan.dabc;
        d.k = ks[(i + 4) % 4];
        computeMasks(c, d);
    });

    // (b) MDQFO change on the layer's groups: lambda_cos alone (p stays 2, the default, whose
    // |e|^p is a product) and p (other exponents need a pow per element).
    const double ps[] = {0.5, 1.0, 3.0};
    const double lambdas[] = {0.5, 2.0, 0.0, 4.0};
    auto variant = [&](double p, double lambda) {
        QuantSettings v = plan;
        v.mdqfo.p = p;
        v.mdqfo.lambdaCos = lambda;
        return v;
    };
    Timing lambdaT = timeIt(repeats, [&](int i) {
        const Session c = Engine::previewInputs(s);
        engine.replanGroups(c, groups, variant(2.0, lambdas[(i + 4) % 4]));
    });
    std::vector<std::pair<double, Timing>> pT; // per exponent: each needs a pow per element
    for (double p : ps)
        pT.emplace_back(p, timeIt(repeats, [&](int i) {
            const Session c = Engine::previewInputs(s);
            engine.replanGroups(c, groups, variant(p, lambdas[(i + 4) % 4]));
        }));

    // (c) threshold change as the GUI chains it: new masks, then MDQFO on them.
    Timing chainT = timeIt(repeats, [&](int i) {
        Session c = maskInputs(s);
        DabcSettings d = plan.dabc;
        d.k = ks[(i + 4) % 4];
        computeMasks(c, d);
        Session w = Engine::previewInputs(s); // the preview request once the new masks are in the window's session
        w.plans = std::move(c.plans);
        engine.replanGroups(w, groups, plan);
    });

    const double targetMs = 500.0;
    auto row = [&](const std::string& what, const Timing& t) {
        std::printf("%-62s median %8.2f ms  max %8.2f ms  %s\n", what.c_str(), t.medianMs, t.maxMs,
            t.maxMs <= targetMs ? "(max within 500 ms)" : "(max OVER 500 ms)");
    };
    row("(a) DABC mask recompute: copy + computeMasks (" + std::to_string(s.groups.size()) + " groups)", maskT);
    row("(b1) MDQFO preview: copy + replanGroups, lambda_cos changed", lambdaT);
    for (const auto& [p, t] : pT) {
        char what[80];
        std::snprintf(what, sizeof what, "(b2) MDQFO preview: copy + replanGroups, p = %g", p);
        row(what, t);
    }
    row("(c) threshold change: (a), then (b) with the new masks", chainT);
    std::printf("\ntarget (issue): %.0f ms per stories260K layer\n", targetMs);
    return 0;
}
