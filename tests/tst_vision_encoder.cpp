// The Qwen2.5-VL vision encoder (core/model/vision_encoder.cpp) against an independent numpy
// float64 reference (tests/fixtures/vision_reference.py) that masks attention instead of
// reordering tokens, plus the window order, the attention locality, the hook contract and load
// errors.
// HF PARITY IS PENDING: these checks follow QWEN25_OMNI.md §3 only. No machine with torch and
// transformers was available when this was written, so the encoder has not yet been compared
// with Hugging Face's Qwen2_5OmniVisionEncoder on real weights.
// ATen before any Qt header: Qt's "slots" macro breaks ATen's IValue.
#include <ATen/ATen.h>

#include "test_util.h"

#include "common/error.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "model/vision_encoder.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <map>

using namespace mq::core;

namespace {

// The sizes of vision_reference.py: depth 3 (block 1 full attention), width 16, 2 heads of 8,
// patch 2x2 over 3 channels and 2 frames (24 inputs), window 8 px = 2x2 merged tokens.
constexpr int kDepth = 3, kDim = 16, kHeads = 2, kInter = 24, kChannels = 3, kTp = 2, kPatch = 2, kOut = 12;
constexpr int64_t kGridT = 2, kGridH = 6, kGridW = 10; // merged 3x5 per frame: windows cut at bottom and right
constexpr int64_t kRows = kGridT * kGridH * kGridW, kCols = kChannels * kTp * kPatch * kPatch;

VisionConfig tinyConfig()
{
    VisionConfig c;
    c.depth = kDepth;
    c.hiddenSize = kDim;
    c.numHeads = kHeads;
    c.intermediateSize = kInter;
    c.inChannels = kChannels;
    c.patchSize = kPatch;
    c.temporalPatchSize = kTp;
    c.spatialMergeSize = 2;
    c.windowSize = 8;
    c.outHiddenSize = kOut;
    c.fullAttBlockIndexes = {1};
    return c;
}

// ((r*(k%5+2) + c*(k%7+3) + k) % 13 - 6) / 10 over the [shape[0], prod(rest)] view, as pattern()
// in the Python reference; k numbers the tensors in the reference's order.
at::Tensor pattern(std::vector<int64_t> shape, int k)
{
    const int64_t rows = shape[0], cols = at::IntArrayRef(shape).size() > 1 ? c10::multiply_integers(shape.begin() + 1, shape.end()) : 1;
    std::vector<float> v(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            v[size_t(r * cols + c)] = float(((r * (k % 5 + 2) + c * (k % 7 + 3) + k) % 13 - 6) / 10.0);
    return at::tensor(v, at::kFloat).reshape(shape);
}

at::Tensor normWeight(int64_t n, int k)
{
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        v[size_t(i)] = float(1.0 + double(((i * 3 + k) % 5) - 2) * 0.05);
    return at::tensor(v, at::kFloat);
}

std::map<std::string, at::Tensor> tinyTensors(const std::string& prefix = "thinker.visual.")
{
    std::map<std::string, at::Tensor> t;
    int k = 0;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) { t[prefix + name] = pattern(shape, k++); };
    auto addNorm = [&](const std::string& name) { t[prefix + name] = normWeight(kDim, k++); };
    add("patch_embed.proj.weight", {kDim, kChannels, kTp, kPatch, kPatch});
    for (int i = 0; i < kDepth; ++i) {
        const std::string p = "blocks." + std::to_string(i) + ".";
        addNorm(p + "norm1.weight");
        addNorm(p + "norm2.weight");
        for (const char* n : {"q", "k", "v", "proj"}) {
            add(p + "attn." + n + ".weight", {kDim, kDim});
            add(p + "attn." + n + ".bias", {kDim});
        }
        for (const char* n : {"gate_proj", "up_proj"}) {
            add(p + "mlp." + n + ".weight", {kInter, kDim});
            add(p + "mlp." + n + ".bias", {kInter});
        }
        add(p + "mlp.down_proj.weight", {kDim, kInter});
        add(p + "mlp.down_proj.bias", {kDim});
    }
    addNorm("merger.ln_q.weight");
    add("merger.mlp.0.weight", {4 * kDim, 4 * kDim});
    add("merger.mlp.0.bias", {4 * kDim});
    add("merger.mlp.2.weight", {kOut, 4 * kDim});
    add("merger.mlp.2.bias", {kOut});
    return t;
}

// ((r*7 + c*3) % 13 - 6) / 6, the reference's patch rows.
at::Tensor tinyPatches()
{
    std::vector<float> v(size_t(kRows * kCols));
    for (int64_t r = 0; r < kRows; ++r)
        for (int64_t c = 0; c < kCols; ++c)
            v[size_t(r * kCols + c)] = float(((r * 7 + c * 3) % 13 - 6) / 6.0);
    return at::tensor(v, at::kFloat).reshape({kRows, kCols});
}

// Output of tests/fixtures/vision_reference.py (float64), merged tokens in (t, h/2, w/2) order.
const double kExpected[kRows / 4][kOut] = {
    {6.2227484, -16.478225, 14.27802, -1.6045266, -24.320918, 6.0776107, 1.9317879, -0.85759237, -0.7957523, -1.4343715, 14.396154, -8.5098102},
    {12.529853, -1.1479267, 4.3824963, 6.880951, -7.6644829, -1.1307491, 7.8390257, -11.956721, -7.8686113, 2.1861771, 13.908185, -13.527429},
    {5.4163705, 10.558873, -22.968568, 0.49187995, 10.908464, -6.0946088, -7.3844397, 2.0974291, 26.33937, -16.041092, -6.8678838, 18.438369},
    {-20.201382, 0.90593776, -3.5451516, 15.967633, -7.8233462, -14.627185, 22.627941, -12.952282, 0.031796899, 13.898662, -9.388749, 9.6375494},
    {-16.730368, 4.1751788, 5.2207047, -1.2418216, -1.6303847, -1.9689744, 3.1254243, -6.4866976, 7.078309, -1.6090956, -9.5723052, 9.573259},
    {-4.5322855, -0.66688313, 2.2726455, -7.7897557, 18.452258, 5.7196824, -17.430945, 9.1003796, -2.9710282, -0.50017948, -0.25340854, -13.024987},
    {-12.817198, -14.183842, 15.363521, 6.653601, -1.1254181, 2.9132968, -5.5166487, 10.822097, -6.3208997, -16.667749, -0.36697252, -2.9505352},
    {11.657507, -17.579791, -0.79721157, 8.0523469, -10.062875, -4.8716693, 5.7082244, 8.6792264, -9.3078552, 1.0728752, 17.531339, -12.939905},
    {14.632928, 13.769004, -18.468601, 4.3001666, 3.3969866, 8.9908251, -1.3965024, -6.9823004, -0.56677429, -11.73847, 27.033747, -10.899538},
    {-13.607218, 2.613918, -3.5502497, 12.545819, -7.2046339, -15.205543, 2.734903, -1.205046, 16.112869, -6.5160747, -4.3587704, 11.864896},
    {-33.235437, 5.684264, 3.7493192, 18.056046, -5.0057314, -7.8199296, 13.014534, -12.600479, 8.0890882, 3.3853296, -22.306219, 15.552175},
    {-11.359153, 8.730869, -3.7792952, 4.3630149, 6.8515777, 2.2787179, -0.33542502, 1.4899542, -3.8475162, -4.6135859, -4.7355024, 3.5839732},
    {-12.936215, -15.594357, 12.005313, -2.8638592, 16.208293, 2.0966572, -11.730486, 6.6847561, 3.6054831, -10.281725, -1.9236161, -5.8842744},
    {8.5833376, -8.3236637, 6.642484, 2.4310176, -14.906032, -1.6880084, 3.6054767, -8.9218413, -7.8437933, 4.7784636, 16.717401, -14.276755},
    {6.2363379, -13.799892, 11.660408, -0.34416116, -19.734398, 4.2108018, 8.0111249, -1.3084044, -1.9363368, 2.5054066, 13.932217, -7.6533512},
    {6.9720348, 11.228849, -25.2017, -0.42535879, 12.82522, -7.3966368, -8.4007031, 3.7465108, 27.194081, -17.372736, -5.2841654, 19.212977},
    {-20.044861, 0.48485194, -3.5376021, 16.65247, -8.1179061, -14.280666, 22.767958, -13.449346, 0.20236549, 14.165201, -9.2598698, 9.0913187},
    {-15.86421, 6.6157466, 2.047381, 6.4752, 1.0072836, -4.8670341, 0.75809393, -3.7431433, 2.8000556, -4.8294852, -9.4346257, 12.344363},
    {-4.2932779, -5.8616441, 5.1308901, -4.5596652, 15.959737, 4.4338351, -14.80986, 5.7257424, -2.1326445, 2.8035463, -4.5113078, -13.250227},
    {-9.8851638, -12.222374, 14.437606, 0.79894512, 0.09809307, 5.2910913, -6.3420505, 7.9331582, -3.5651427, -14.316255, -0.7386487, -3.2753384},
    {11.319289, -17.460885, -0.42900543, 7.7657444, -7.3236027, -4.8065002, 3.9783939, 10.265231, -9.3864872, -0.54097937, 17.028935, -12.944226},
    {15.33565, 14.927938, -21.69833, 5.1296071, 4.5850489, 5.3681943, -2.5698961, -5.6540125, 0.88531513, -12.11276, 27.443911, -9.320728},
    {-16.009955, 4.0869356, -3.2228055, 12.291733, -6.9394849, -15.442587, 2.193614, -0.13573145, 20.409363, -7.7835577, -10.299291, 14.064107},
    {-19.036699, -2.7240241, 0.67354461, 20.462997, -10.686671, -9.3478985, 26.181779, -12.228419, -17.136434, 18.219141, -9.6360086, 5.7974332},
    {-7.3682055, -3.6092354, -1.3935763, 1.7399897, 11.520891, -9.6037195, 5.501359, 5.5532349, -9.3211786, -0.62416725, -0.19859402, 3.3215228},
    {-12.292567, -16.128383, 11.736988, -2.4772505, 16.337928, 1.9311065, -11.342246, 7.1068412, 2.8003265, -9.9521922, -1.3988503, -6.5657338},
    {4.2451785, -8.7971212, 9.8113385, -1.0612255, -15.196292, 2.6887551, -5.630644, -6.0527071, -2.7149084, 3.0349341, 11.913192, -8.1182888},
    {9.7461343, -2.555649, 10.114624, 3.4750602, -9.0451383, 1.5720635, 5.5135684, -9.5020421, -5.7480407, -0.71466326, 17.508319, -12.362187},
    {5.8376295, 6.2274166, -12.390413, 4.7601886, 0.37576058, -5.329909, -2.6237266, -4.9629028, 21.011188, -10.614563, -11.710256, 13.611322},
    {-27.380319, -8.0330114, 3.9965217, 18.542887, -18.446804, -7.7388385, 33.187926, -13.509341, -5.6411761, 22.774133, -15.666438, 2.4020576},
    // reference checksums: sum -148.9878247  sum|.| 3131.755757
};

VisionEncoder loadFrom(const QTemporaryDir& dir, const VisionConfig& cfg, const std::map<std::string, at::Tensor>& t)
{
    const std::string d = dir.path().toStdString();
    writeSafetensors(d + "/model.safetensors", t);
    Checkpoint ck(d);
    return VisionEncoder::load(cfg, ck);
}

struct RecordingHook : ForwardHook {
    struct Call {
        int group;
        std::vector<int64_t> shape;
        bool modalityOk;
    };
    std::vector<Call> calls;
    int zeroGroup = -1; // group whose Linear input is replaced by zeros
    uint8_t expectModality = 0;
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        const bool ok = modality.scalar_type() == at::kByte && modality.dim() == 1 && modality.size(0) == x.size(0)
                        && modality.eq(int64_t(expectModality)).all().item<bool>();
        calls.push_back({group, x.sizes().vec(), ok});
        return group == zeroGroup ? at::zeros_like(x) : x;
    }
};

} // namespace

class TestVisionEncoder : public QObject {
    Q_OBJECT

private slots:
    void configFromJson()
    {
        const nlohmann::json j = {{"depth", 2}, {"hidden_size", 32}, {"num_heads", 2}, {"intermediate_size", 64},
                                  {"in_chans", 3}, {"spatial_patch_size", 14}, {"temporal_patch_size", 2},
                                  {"spatial_merge_size", 2}, {"window_size", 112}, {"fullatt_block_indexes", {1}},
                                  {"out_hidden_size", 64}, {"tokens_per_second", 25}};
        const VisionConfig c = VisionConfig::fromJson(j, "config.json");
        QCOMPARE(c.depth, 2);
        QCOMPARE(c.hiddenSize, 32);
        QCOMPARE(c.numHeads, 2);
        QCOMPARE(c.intermediateSize, 64);
        QCOMPARE(c.inChannels, 3);
        QCOMPARE(c.patchSize, 14);
        QCOMPARE(c.windowSize, 112);
        QCOMPARE(c.outHiddenSize, 64);
        QCOMPARE(c.fullAttBlockIndexes, std::vector<int>{1});
        nlohmann::json bad = j;
        bad["num_heads"] = "2";
        try {
            VisionConfig::fromJson(bad, "config.json");
            QFAIL("a string num_heads was accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("num_heads") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("config.json") != std::string::npos, e.what());
        }
        bad = j;
        bad["fullatt_block_indexes"] = 7;
        QVERIFY_THROWS_EXCEPTION(InputError, VisionConfig::fromJson(bad, "config.json"));
    }

    // The reordering is a permutation of the merge units, grouped window by window with the edge
    // windows cut short, and undoing it restores the raster order.
    void windowOrderIsPermutation()
    {
        std::vector<int64_t> windows;
        const std::vector<int64_t> order = VisionEncoder::windowOrder(tinyConfig(), kGridT, kGridH, kGridW, &windows);
        QCOMPARE(int64_t(order.size()), kRows / 4);
        std::vector<int64_t> sorted = order;
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 0; i < sorted.size(); ++i)
            QCOMPARE(sorted[i], int64_t(i));
        // Per frame, merged grid 3x5 in windows of 2x2: sizes 4 4 2 / 2 2 1 merged tokens, x4 patches.
        const std::vector<int64_t> perFrame = {16, 16, 8, 8, 8, 4};
        std::vector<int64_t> expected = perFrame;
        expected.insert(expected.end(), perFrame.begin(), perFrame.end());
        QCOMPARE(windows, expected);
        // First window of frame 0 holds merged (0,0) (0,1) (1,0) (1,1) = raster 0 1 5 6.
        QCOMPARE(std::vector<int64_t>(order.begin(), order.begin() + 4), (std::vector<int64_t>{0, 1, 5, 6}));
        // Round trip on a tensor, the way forward() undoes it.
        const at::Tensor orderT = at::tensor(order, at::kLong);
        const at::Tensor raster = at::arange(kRows / 4, at::kLong);
        const at::Tensor back = at::empty_like(raster).index_copy_(0, orderT, raster.index_select(0, orderT));
        QVERIFY(back.equal(raster));
        // The 7B case: 112 px windows over a 28x42 patch grid (4x4 merged windows, last column cut).
        std::vector<int64_t> big;
        const std::vector<int64_t> o7 = VisionEncoder::windowOrder(VisionConfig{}, 1, 28, 42, &big);
        QCOMPARE(int64_t(o7.size()), int64_t(14 * 21));
        QCOMPARE(int64_t(big.size()), int64_t(4 * 6));
        QCOMPARE(big.front(), int64_t(64));
        QCOMPARE(big.back(), int64_t(2 * 1 * 4)); // bottom-right: 2 rows x 1 column of merged tokens
    }

    // Against the numpy float64 reference. Tolerance: |got - want| <= 1e-4 * max(1, |want|); outputs
    // are of order 10 and the float32 forward of 3 blocks lands within about 2e-5 of float64.
    void matchesReference()
    {
        QTemporaryDir dir;
        const VisionEncoder enc = loadFrom(dir, tinyConfig(), tinyTensors());
        const at::Tensor out = enc.forward(tinyPatches(), kGridT, kGridH, kGridW);
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{kRows / 4, kOut}));
        QCOMPARE(out.scalar_type(), at::kFloat);
        const auto a = out.accessor<float, 2>();
        double worst = 0.0;
        for (int64_t r = 0; r < kRows / 4; ++r)
            for (int64_t c = 0; c < kOut; ++c) {
                const double want = kExpected[r][c];
                const double err = std::abs(double(a[r][c]) - want) / std::max(1.0, std::abs(want));
                worst = std::max(worst, err);
                if (err > 1e-4)
                    QFAIL(qPrintable(QString("row %1 col %2: got %3, reference %4").arg(r).arg(c).arg(a[r][c]).arg(want)));
            }
        qInfo("worst relative error vs the float64 reference: %.3g", worst);
    }

    // Every block attends within one temporal slice (window or full), so a patch of frame 1 cannot
    // reach frame 0; with no full-attention block, it cannot leave its window either.
    void attentionStaysLocal()
    {
        QTemporaryDir dir;
        const VisionEncoder enc = loadFrom(dir, tinyConfig(), tinyTensors());
        const at::Tensor base = tinyPatches();
        const at::Tensor ref = enc.forward(base, kGridT, kGridH, kGridW);
        const int64_t perFrame = kRows / 4 / kGridT; // 15 merged tokens
        at::Tensor moved = base.clone();
        moved[kRows - 1].add_(1.0); // last patch of frame 1
        const at::Tensor out = enc.forward(moved, kGridT, kGridH, kGridW);
        // Frame 0 untouched (1e-6 absolute: identical inputs, only summation order could differ).
        QVERIFY(at::allclose(out.narrow(0, 0, perFrame), ref.narrow(0, 0, perFrame), 0.0, 1e-6));
        // Frame 1 mixes through the full-attention block: every merged token of it moves.
        QVERIFY((out.narrow(0, perFrame, perFrame) - ref.narrow(0, perFrame, perFrame)).abs().amax(1).gt(1e-4).all().item<bool>());

        VisionConfig windowOnly = tinyConfig();
        windowOnly.fullAttBlockIndexes.clear();
        QTemporaryDir dir2;
        const VisionEncoder encW = loadFrom(dir2, windowOnly, tinyTensors());
        const at::Tensor refW = encW.forward(base, kGridT, kGridH, kGridW);
        at::Tensor moved0 = base.clone();
        moved0[0].add_(1.0); // patch (t 0, h 0, w 0): window 0 = merged raster 0 1 5 6
        const at::Tensor outW = encW.forward(moved0, kGridT, kGridH, kGridW);
        const at::Tensor changed = (outW - refW).abs().amax(1).gt(1e-6);
        for (int64_t m = 0; m < kRows / 4; ++m) {
            const bool inWindow = m == 0 || m == 1 || m == 5 || m == 6;
            if (changed[m].item<bool>() != inWindow)
                QFAIL(qPrintable(QString("merged token %1: changed %2, expected %3").arg(m).arg(!inWindow).arg(inWindow)));
        }
    }

    void hookSeesEveryGroup()
    {
        QTemporaryDir dir;
        const VisionEncoder enc = loadFrom(dir, tinyConfig(), tinyTensors());
        const std::vector<std::string> g = enc.groups();
        QCOMPARE(int(g.size()), 4 * kDepth + 2);
        QCOMPARE(g[0], std::string("visual.blocks.0.qkv_in"));
        QCOMPARE(g[5], std::string("visual.blocks.1.proj_in"));
        QCOMPARE(g[4 * kDepth], std::string("visual.merger.mlp0_in"));
        QCOMPARE(g[4 * kDepth + 1], std::string("visual.merger.mlp2_in"));

        RecordingHook hook;
        hook.expectModality = 2;
        const int offset = 10;
        const at::Tensor plain = enc.forward(tinyPatches(), kGridT, kGridH, kGridW);
        const at::Tensor observed = enc.forward(tinyPatches(), kGridT, kGridH, kGridW, &hook, offset, 2);
        QVERIFY(observed.equal(plain)); // observing only changes nothing
        QCOMPARE(int(hook.calls.size()), 4 * kDepth + 2);
        for (int i = 0; i < int(hook.calls.size()); ++i) {
            const auto& c = hook.calls[size_t(i)];
            QCOMPARE(c.group, offset + i);
            QVERIFY2(c.modalityOk, g[size_t(i)].c_str());
            std::vector<int64_t> want;
            if (i >= 4 * kDepth)
                want = {kRows / 4, 4 * kDim};
            else
                want = {kRows, i % 4 == 3 ? kInter : kDim};
            QCOMPARE(c.shape, want);
        }
        // The returned tensor is what the Linear consumes: zeroing mlp2's input leaves its bias.
        RecordingHook zero;
        zero.zeroGroup = 4 * kDepth + 1;
        const at::Tensor out = enc.forward(tinyPatches(), kGridT, kGridH, kGridW, &zero);
        const at::Tensor bias = tinyTensors().at("thinker.visual.merger.mlp.2.bias");
        QVERIFY(at::allclose(out, bias.expand_as(out), 0.0, 1e-6));
    }

    void loadErrors()
    {
        auto t = tinyTensors();
        t.erase("thinker.visual.blocks.1.attn.k.bias");
        QTemporaryDir dir;
        try {
            loadFrom(dir, tinyConfig(), t);
            QFAIL("a missing tensor was accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("thinker.visual.blocks.1.attn.k.bias") != std::string::npos, e.what());
        }
        t = tinyTensors();
        t["thinker.visual.merger.mlp.2.weight"] = at::zeros({kOut + 1, 4 * kDim});
        QTemporaryDir dir2;
        try {
            loadFrom(dir2, tinyConfig(), t);
            QFAIL("a wrong shape was accepted");
        } catch (const InputError& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find("thinker.visual.merger.mlp.2.weight") != std::string::npos, e.what());
            QVERIFY2(msg.find("model.safetensors") != std::string::npos, e.what());
            QVERIFY2(msg.find("[13, 64]") != std::string::npos && msg.find("[12, 64]") != std::string::npos, e.what());
        }
        // Half-precision weights load as float32.
        auto half = tinyTensors();
        for (auto& [name, w] : half)
            w = w.to(at::kBFloat16);
        QTemporaryDir dir3;
        const VisionEncoder enc = loadFrom(dir3, tinyConfig(), half);
        QCOMPARE(enc.forward(tinyPatches(), kGridT, kGridH, kGridW).scalar_type(), at::kFloat);
        // Wrong patch rows for the grid.
        QVERIFY_THROWS_EXCEPTION(InputError, enc.forward(tinyPatches(), kGridT, kGridH, kGridW + 2));
    }

    // The checkpoint `morphoquant-cli make-tiny-omni` writes (bf16, sharded, thinker_config):
    // config and tensor names agree with the encoder. Skipped when the CLI is not built beside us.
    void tinyOmniCheckpoint()
    {
        const QString cli = QString::fromStdString(mq::test::binDir()) + "/morphoquant-cli";
        if (!QFileInfo::exists(cli))
            QSKIP("morphoquant-cli is not in MQ_BIN_DIR");
        QTemporaryDir tmp;
        const QString dir = tmp.path() + "/tiny";
        QProcess p;
        p.start(cli, {"make-tiny-omni", dir});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QFile f(dir + "/config.json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto cfgJson = nlohmann::json::parse(f.readAll().toStdString());
        const VisionConfig cfg = VisionConfig::fromJson(cfgJson.at("thinker_config").at("vision_config"), "config.json");
        QCOMPARE(cfg.depth, 2);
        QCOMPARE(cfg.hiddenSize, 32);
        QCOMPARE(cfg.fullAttBlockIndexes, std::vector<int>{1});
        Checkpoint ck(dir.toStdString());
        const VisionEncoder enc = VisionEncoder::load(cfg, ck);
        // 1 x 10 x 12 patches of 3*2*14*14: merged 5x6, one full 4x4 window and three cut ones.
        const at::Tensor patches = at::linspace(-1.0, 1.0, 120 * 1176, at::kFloat).reshape({120, 1176});
        const at::Tensor out = enc.forward(patches, 1, 10, 12);
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{30, cfg.outHiddenSize}));
        QVERIFY(at::isfinite(out).all().item<bool>());
    }
};

QTEST_APPLESS_MAIN(TestVisionEncoder)
#include "tst_vision_encoder.moc"
