// The Qwen2.5-Omni audio encoder (QWEN25_OMNI.md §3) on a tiny encoder with
// index-formula weights: outputs against the independent float64 numpy
// reference tests/fixtures/audio_reference.py (values pasted below), the
// token-count formula, chunk independence, the forward hook's groups, config
// parsing and load errors. HF parity (transformers' Qwen2_5OmniAudioEncoder on
// real weights) is still pending: no GPU machine with transformers was
// available in the session that wrote this suite. ATen before QtTest: Qt's
// `slots` macro breaks ATen's IValue::slots() otherwise.
#include <ATen/ATen.h>

#include "common/error.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "model/audio_encoder.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

using namespace mq::core;

namespace {

// Tiny sizes, as tiny_omni.cpp and audio_reference.py.
constexpr int kMels = 128, kD = 32, kLayers = 2, kHeads = 2, kFfn = 64, kWindow = 100, kOut = 64;
const std::string kPrefix = "thinker.audio_tower.";

AudioConfig tinyConfig()
{
    AudioConfig c;
    c.numMelBins = kMels;
    c.dModel = kD;
    c.encoderLayers = kLayers;
    c.encoderAttentionHeads = kHeads;
    c.encoderFfnDim = kFfn;
    c.maxSourcePositions = 1500;
    c.nWindow = kWindow;
    c.outputDim = kOut;
    return c;
}

// Same order and formula as tensor_specs() / weight() in audio_reference.py.
std::vector<std::pair<std::string, std::vector<int64_t>>> tensorSpecs()
{
    std::vector<std::pair<std::string, std::vector<int64_t>>> s = {
        {"conv1.weight", {kD, kMels, 3}}, {"conv1.bias", {kD}}, {"conv2.weight", {kD, kD, 3}}, {"conv2.bias", {kD}}};
    for (int i = 0; i < kLayers; ++i) {
        const std::string p = "layers." + std::to_string(i) + ".";
        s.insert(s.end(), {{p + "self_attn_layer_norm.weight", {kD}},
                           {p + "self_attn_layer_norm.bias", {kD}},
                           {p + "self_attn.q_proj.weight", {kD, kD}},
                           {p + "self_attn.q_proj.bias", {kD}},
                           {p + "self_attn.k_proj.weight", {kD, kD}},
                           {p + "self_attn.v_proj.weight", {kD, kD}},
                           {p + "self_attn.v_proj.bias", {kD}},
                           {p + "self_attn.out_proj.weight", {kD, kD}},
                           {p + "self_attn.out_proj.bias", {kD}},
                           {p + "final_layer_norm.weight", {kD}},
                           {p + "final_layer_norm.bias", {kD}},
                           {p + "fc1.weight", {kFfn, kD}},
                           {p + "fc1.bias", {kFfn}},
                           {p + "fc2.weight", {kD, kFfn}},
                           {p + "fc2.bias", {kD}}});
    }
    s.insert(s.end(),
             {{"ln_post.weight", {kD}}, {"ln_post.bias", {kD}}, {"proj.weight", {kOut, kD}}, {"proj.bias", {kOut}}});
    return s;
}

std::map<std::string, at::Tensor> tinyTensors()
{
    std::map<std::string, at::Tensor> t;
    const auto specs = tensorSpecs();
    for (size_t k = 0; k < specs.size(); ++k) {
        const auto& [name, shape] = specs[k];
        int64_t n = 1, fanIn = 1;
        for (size_t d = 0; d < shape.size(); ++d) {
            n *= shape[d];
            fanIn *= d ? shape[d] : 1;
        }
        double offset = 0.0, scale = 0.1;
        if (shape.size() >= 2)
            scale = 1.0 / std::sqrt(double(fanIn));
        else if (name.size() >= 11
                 && (name.compare(name.size() - 11, 11, "norm.weight") == 0 || name == "ln_post.weight"))
            offset = 1.0;
        at::Tensor v = at::empty({n}, at::kFloat);
        float* p = v.data_ptr<float>();
        for (int64_t i = 0; i < n; ++i)
            p[i] = float(offset + scale * std::sin(0.731 * double(i) + 1.917 * double(k) + 0.3));
        t[kPrefix + name] = v.reshape(shape);
    }
    return t;
}

// mel[c, t] = sin(0.013 (c+1)(t+1) + 0.1 c), as mel() in audio_reference.py.
at::Tensor tinyMel(int64_t frames)
{
    at::Tensor m = at::empty({kMels, frames}, at::kFloat);
    auto a = m.accessor<float, 2>();
    for (int c = 0; c < kMels; ++c)
        for (int64_t t = 0; t < frames; ++t)
            a[c][t] = float(std::sin(0.013 * (c + 1) * double(t + 1) + 0.1 * c));
    return m;
}

// Writes the tensors as <dir>/model.safetensors and returns the encoder loaded
// from it.
AudioEncoder loadFrom(const QTemporaryDir& dir, const std::map<std::string, at::Tensor>& tensors)
{
    writeSafetensors(dir.path().toStdString() + "/model.safetensors", tensors);
    Checkpoint ck(dir.path().toStdString());
    return AudioEncoder::load(tinyConfig(), ck);
}

template <typename F> void expectInputError(F f, const std::vector<std::string>& mustName)
{
    try {
        f();
        QFAIL("expected InputError");
    } catch (const InputError& e) {
        const std::string msg = e.what();
        for (const auto& s : mustName)
            QVERIFY2(msg.find(s) != std::string::npos, (msg + " (should name " + s + ")").c_str());
    }
}

struct RecordingHook : ForwardHook {
    struct Call {
        int group;
        std::vector<int64_t> shape;
        at::Tensor x, modality;
    };
    std::vector<Call> calls;
    int zeroGroup = -1; // this group's input is replaced by zeros
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        calls.push_back({group, x.sizes().vec(), x.clone(), modality.clone()});
        return group == zeroGroup ? at::zeros_like(x) : x;
    }
};

// Output of audio_reference.py (float64): rows 0, 49, 50 and the last, columns
// 0..15, and the per-column sums over all rows.
struct Reference {
    int64_t frames, tokens;
    int rows[4];
    double values[4][16];
    double sums[kOut];
};

const Reference kRef250 = {
    250,
    62,
    {0, 49, 50, 61},
    {{0.1128217, 0.02737376, -0.06866986, -0.08104423, -0.07183051, -0.06778664, 0.004883804, 0.105436, 0.1078481,
      0.03974648, 0.0008096375, -0.03987118, -0.1092031, -0.1048206, -0.003910842, 0.06655079},
     {-0.5667533, 0.3488715, 0.5021565, -0.5956275, -0.4685959, 0.581005, 0.1821915, -0.603331, 0.1702851, 0.7273938,
      -0.2942283, -0.6277201, 0.3846783, 0.3159699, -0.6401272, -0.1390356},
     {0.1107201, 0.04991157, -0.07419185, -0.1017142, -0.05931678, -0.05134952, -0.01318989, 0.09511245, 0.1294138,
      0.04277534, -0.02178059, -0.03525875, -0.08817304, -0.1165466, -0.02097451, 0.08404866},
     {-0.7419122, 0.679015, 0.5656424, -0.9472454, -0.413145, 0.9138662, 0.01414821, -0.8793506, 0.4316938, 0.9149903,
      -0.6190926, -0.7054293, 0.7358282, 0.2749005, -0.9773852, 0.01611329}},
    {-31.39265, 24.34887,  26.46799,  -38.06953,  -24.00141, 35.45422,   6.436498,  -35.19472, 14.6689,   41.49597,
     -21.13483, -34.33774, 25.19321,  14.5549,    -39.32784, -3.706761,  46.13787,  -1.171652, -35.3236,  17.90455,
     25.97348,  -36.37923, -24.80123, 37.87982,   12.86421,  -34.03818,  9.972907,  39.33259,  -21.6944,  -38.30503,
     23.67159,  20.25971,  -34.49195, -4.461839,  46.11935,  -0.2029972, -39.886,   11.93867,  27.06826,  -32.41133,
     -24.17618, 39.88751,  17.71062,  -34.71394,  3.628764,  36.61252,   -20.95564, -40.00959, 23.81862,  26.5497,
     -30.174,   -7.031078, 43.79291,  -0.3568006, -43.85639, 7.491919,   30.0416,   -26.75108, -23.25845, 40.34234,
     20.40101,  -36.90267, -3.310002, 34.54391}};

const Reference kRef223 = {
    223,
    56,
    {0, 49, 50, 55},
    {{0.1128217, 0.02737376, -0.06866986, -0.08104423, -0.07183051, -0.06778664, 0.004883804, 0.105436, 0.1078481,
      0.03974648, 0.0008096375, -0.03987118, -0.1092031, -0.1048206, -0.003910842, 0.06655079},
     {-0.5667533, 0.3488715, 0.5021565, -0.5956275, -0.4685959, 0.581005, 0.1821915, -0.603331, 0.1702851, 0.7273938,
      -0.2942283, -0.6277201, 0.3846783, 0.3159699, -0.6401272, -0.1390356},
     {0.1066099, 0.05998764, -0.07348999, -0.1120277, -0.05653004, -0.04197867, -0.01914638, 0.08775642, 0.1378585,
      0.0472749, -0.0317473, -0.036387, -0.07782469, -0.1189187, -0.03052047, 0.08964977},
     {-0.5740567, 1.418746, 0.1475684, -1.54556, 0.2073128, 1.302308, -0.7377023, -1.013474, 1.228912, 0.7794497,
      -1.370464, -0.3157329, 1.355382, -0.3243638, -1.394234, 0.7563794}},
    {-26.50152, 19.08189,  23.03798,  -31.18094, -21.89403, 28.89156,  7.088227,  -29.08832, 11.06127,  35.5199,
     -16.23836, -30.01882, 19.56713,  13.22882,  -32.36178, -4.499437, 38.90224,  1.030326,  -29.84099, 13.38504,
     22.33838,  -29.69248, -22.35056, 31.03075,  12.6455,   -27.908,   7.022227,  33.36167,  -16.87722, -33.35285,
     18.24185,  18.11561,  -27.95301, -4.929326, 38.75937,  1.695791,  -33.76488, 8.139307,  23.08191,  -26.1684,
     -21.52046, 32.81417,  16.7675,   -28.40199, 1.50807,   30.71539,  -16.3619,  -34.6516,  18.44514,  23.5322,
     -24.03388, -6.991681, 36.55167,  1.334615,  -37.16946, 4.283729,  25.53153,  -21.13694, -20.42815, 33.2169,
     18.93688,  -30.28266, -4.531104, 28.67357}};

} // namespace

class TestAudioEncoder : public QObject {
    Q_OBJECT

private slots:
    void referenceOutputs_data();
    void referenceOutputs();
    void tokenCount_data();
    void tokenCount();
    void chunksAreIndependent();
    void hookSeesEveryGroup();
    void hookReplacesInput();
    void configFromJson();
    void missingTensorIsNamed();
    void wrongShapeIsNamed();
    void badMelIsRejected();
};

void TestAudioEncoder::referenceOutputs_data()
{
    QTest::addColumn<int>("which");
    // 250 frames: chunks of 200 + 50 frames -> 100 + 25 = 125 CNN frames (odd:
    // the pool drops one).
    QTest::newRow("L=250") << 0;
    // 223 frames: chunks of 200 + 23 (odd chunk) -> 100 + 12 = 112 CNN frames.
    QTest::newRow("L=223") << 1;
}

void TestAudioEncoder::referenceOutputs()
{
    QFETCH(int, which);
    const Reference& ref = which == 0 ? kRef250 : kRef223;
    QTemporaryDir dir;
    const AudioEncoder enc = loadFrom(dir, tinyTensors());
    const at::Tensor out = enc.forward(tinyMel(ref.frames));
    QCOMPARE(out.dim(), 2);
    QCOMPARE(out.size(0), ref.tokens);
    QCOMPARE(out.size(1), int64_t(kOut));
    QCOMPARE(out.scalar_type(), at::kFloat);
    // float32 against float64 through 2 layers of width 32: the observed error is <= 2e-6
    // relative, and the literals carry 7 significant digits. Values: 1e-4 relative to
    // max(|ref|, 0.1) (rows are O(0.1..1); near-zero entries get the floor). Column sums:
    // 1e-4 relative to max(|sum|, 0.1 * sum of |values|), the floor for cancelling columns.
    auto a = out.accessor<float, 2>();
    double worst = 0;
    for (int r = 0; r < 4; ++r)
        for (int j = 0; j < 16; ++j) {
            const double got = a[ref.rows[r]][j], want = ref.values[r][j];
            worst = std::max(worst, std::abs(got - want) / std::max(std::abs(want), 0.1));
            QVERIFY2(
                std::abs(got - want) <= 1e-4 * std::max(std::abs(want), 0.1),
                qPrintable(QString("row %1 col %2: %3 vs %4").arg(ref.rows[r]).arg(j).arg(got, 0, 'g', 9).arg(want)));
        }
    qInfo("worst scaled error of the pasted values: %.3g", worst);
    const at::Tensor sums = out.to(at::kDouble).sum(0);
    const at::Tensor absSums = out.to(at::kDouble).abs().sum(0);
    for (int j = 0; j < kOut; ++j) {
        const double got = sums[j].item<double>(), want = ref.sums[j];
        QVERIFY2(std::abs(got - want) <= 1e-4 * std::max(std::abs(want), absSums[j].item<double>() * 0.1),
                 qPrintable(QString("sum col %1: %2 vs %3").arg(j).arg(got, 0, 'g', 9).arg(want)));
    }
}

void TestAudioEncoder::tokenCount_data()
{
    QTest::addColumn<qint64>("frames");
    QTest::addColumn<qint64>("tokens");
    // a = (L-1)//2+1, N = (a-2)//2+1 with Python's floor division.
    QTest::newRow("0") << qint64(0) << qint64(0);            // a = (-1)//2+1 = 0, N = (-2)//2+1 = 0
    QTest::newRow("1") << qint64(1) << qint64(0);            // a = 0//2+1 = 1, N = (-1)//2+1 = -1+1 = 0
    QTest::newRow("2") << qint64(2) << qint64(0);            // a = 1//2+1 = 1, N = 0
    QTest::newRow("3") << qint64(3) << qint64(1);            // a = 2, N = 0//2+1 = 1
    QTest::newRow("5") << qint64(5) << qint64(1);            // a = 3, N = 1//2+1 = 1
    QTest::newRow("7") << qint64(7) << qint64(2);            // a = 4, N = 2//2+1 = 2
    QTest::newRow("200") << qint64(200) << qint64(50);       // a = 100, N = 98//2+1 = 50
    QTest::newRow("223") << qint64(223) << qint64(56);       // a = 112, N = 110//2+1 = 56
    QTest::newRow("250") << qint64(250) << qint64(62);       // a = 125, N = 123//2+1 = 62
    QTest::newRow("1000") << qint64(1000) << qint64(250);    // a = 500, N = 498//2+1 = 250 (10 s)
    QTest::newRow("30000") << qint64(30000) << qint64(7500); // 300 s: a = 15000, N = 7500
}

void TestAudioEncoder::tokenCount()
{
    QFETCH(qint64, frames);
    QFETCH(qint64, tokens);
    QCOMPARE(AudioEncoder::tokenCount(frames), int64_t(tokens));
}

void TestAudioEncoder::chunksAreIndependent()
{
    // Changing mel frames of chunk 2 (frames 200..249) must leave every
    // pre-pooling row of chunk 1 (CNN frames 0..99, seen by the hook) and output
    // tokens 0..49 (pool windows inside chunk 1) unchanged; the rows of chunk 2
    // must change. Same shapes, so the float32 results are expected
    // bit-identical; the tolerance 1e-6 only guards against BLAS blocking
    // differences.
    QTemporaryDir dir;
    const AudioEncoder enc = loadFrom(dir, tinyTensors());
    at::Tensor mel = tinyMel(250);
    at::Tensor mel2 = mel.clone();
    mel2.narrow(1, 200, 50).mul_(-0.5).add_(0.3);
    RecordingHook h1, h2;
    const at::Tensor o1 = enc.forward(mel, &h1), o2 = enc.forward(mel2, &h2);
    QCOMPARE(h1.calls.size(), h2.calls.size());
    for (size_t i = 0; i + 1 < h1.calls.size(); ++i) { // every layer group: 125 rows, chunk 1 = rows 0..99
        const at::Tensor a = h1.calls[i].x, b = h2.calls[i].x;
        QCOMPARE(a.size(0), int64_t(125));
        QVERIFY2(at::allclose(a.narrow(0, 0, 100), b.narrow(0, 0, 100), 0, 1e-6), enc.groups()[i].c_str());
        QVERIFY2(!at::allclose(a.narrow(0, 100, 25), b.narrow(0, 100, 25), 0, 1e-3), enc.groups()[i].c_str());
    }
    QVERIFY(at::allclose(o1.narrow(0, 0, 50), o2.narrow(0, 0, 50), 0, 1e-6));
    QVERIFY(!at::allclose(o1.narrow(0, 50, 12), o2.narrow(0, 50, 12), 0, 1e-3));
}

void TestAudioEncoder::hookSeesEveryGroup()
{
    QTemporaryDir dir;
    const AudioEncoder enc = loadFrom(dir, tinyTensors());
    const std::vector<std::string> g = enc.groups();
    const std::vector<std::string> want = {"audio.layers.0.qkv_in", "audio.layers.0.out_in", "audio.layers.0.fc1_in",
                                           "audio.layers.0.fc2_in", "audio.layers.1.qkv_in", "audio.layers.1.out_in",
                                           "audio.layers.1.fc1_in", "audio.layers.1.fc2_in", "audio.proj_in"};
    QCOMPARE(g, want);
    RecordingHook hook;
    const int offset = 17;
    const at::Tensor out = enc.forward(tinyMel(250), &hook, offset, 2);
    QCOMPARE(hook.calls.size(), want.size());
    for (size_t i = 0; i < hook.calls.size(); ++i) {
        const auto& c = hook.calls[i];
        QCOMPARE(c.group, offset + int(i));
        const bool fc2 = g[i].find("fc2_in") != std::string::npos, proj = g[i] == "audio.proj_in";
        const std::vector<int64_t> shape = {proj ? 62 : 125, fc2 ? kFfn : kD};
        QCOMPARE(c.shape, shape);
        QCOMPARE(c.x.scalar_type(), at::kFloat);
        QCOMPARE(c.modality.scalar_type(), at::kByte);
        QCOMPARE(c.modality.sizes().vec(), std::vector<int64_t>{shape[0]});
        QVERIFY(c.modality.eq(2).all().item<bool>());
    }
    // Observing only must not change the result.
    QVERIFY(at::equal(out, enc.forward(tinyMel(250))));
}

void TestAudioEncoder::hookReplacesInput()
{
    // Zeroing proj's input leaves exactly proj.bias in every row: the hook's
    // tensor is consumed.
    QTemporaryDir dir;
    const auto tensors = tinyTensors();
    const AudioEncoder enc = loadFrom(dir, tensors);
    RecordingHook hook;
    hook.zeroGroup = 8; // audio.proj_in
    const at::Tensor out = enc.forward(tinyMel(250), &hook);
    const at::Tensor bias = tensors.at(kPrefix + "proj.bias").unsqueeze(0).expand({62, kOut});
    QVERIFY(at::allclose(out, bias, 0, 1e-7));
}

void TestAudioEncoder::configFromJson()
{
    const nlohmann::json j = {{"model_type", "qwen2_5_omni_audio_encoder"},
                              {"num_mel_bins", 128},
                              {"d_model", 32},
                              {"encoder_layers", 2},
                              {"encoder_attention_heads", 2},
                              {"encoder_ffn_dim", 64},
                              {"max_source_positions", 1500},
                              {"n_window", 100},
                              {"output_dim", 64},
                              {"activation_function", "gelu"}};
    const AudioConfig c = AudioConfig::fromJson(j, "config.json");
    QCOMPARE(c.numMelBins, 128);
    QCOMPARE(c.dModel, 32);
    QCOMPARE(c.encoderLayers, 2);
    QCOMPARE(c.encoderAttentionHeads, 2);
    QCOMPARE(c.encoderFfnDim, 64);
    QCOMPARE(c.maxSourcePositions, 1500);
    QCOMPARE(c.nWindow, 100);
    QCOMPARE(c.outputDim, 64);
    // Absent keys keep the 7B defaults (HF's config defaults).
    const AudioConfig d = AudioConfig::fromJson(nlohmann::json::object(), "config.json");
    QCOMPARE(d.dModel, 1280);
    QCOMPARE(d.outputDim, 3584);
    nlohmann::json bad = j;
    bad["d_model"] = "32";
    expectInputError([&] { AudioConfig::fromJson(bad, "config.json"); }, {"config.json", "d_model", "string"});
    bad = j;
    bad["n_window"] = 1.5;
    expectInputError([&] { AudioConfig::fromJson(bad, "config.json"); }, {"config.json", "n_window"});
    bad = j;
    bad["encoder_attention_heads"] = 3;
    expectInputError([&] { AudioConfig::fromJson(bad, "config.json"); }, {"config.json", "d_model"});
}

void TestAudioEncoder::missingTensorIsNamed()
{
    auto tensors = tinyTensors();
    tensors.erase(kPrefix + "layers.1.fc2.bias");
    QTemporaryDir dir;
    expectInputError([&] { loadFrom(dir, tensors); },
                     {"thinker.audio_tower.layers.1.fc2.bias", dir.path().toStdString(), "missing"});
}

void TestAudioEncoder::wrongShapeIsNamed()
{
    auto tensors = tinyTensors();
    tensors[kPrefix + "conv2.weight"] = at::zeros({kD, kD, 5});
    QTemporaryDir dir;
    expectInputError([&] { loadFrom(dir, tensors); },
                     {"model.safetensors", "thinker.audio_tower.conv2.weight", "[32, 32, 5]", "[32, 32, 3]"});
}

void TestAudioEncoder::badMelIsRejected()
{
    QTemporaryDir dir;
    const AudioEncoder enc = loadFrom(dir, tinyTensors());
    expectInputError([&] { enc.forward(at::zeros({80, 250})); }, {"[80, 250]", "128"});
    expectInputError([&] { enc.forward(at::zeros({kMels})); }, {"128"});
    expectInputError([&] { enc.forward(at::zeros({kMels, 2})); }, {"at least 3"});
    QCOMPARE(enc.forward(at::zeros({kMels, 3})).size(0),
             int64_t(1)); // the shortest clip: one token
}

QTEST_APPLESS_MAIN(TestAudioEncoder)

#include "tst_audio_encoder.moc"
