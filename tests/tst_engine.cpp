// mq::core::Engine end to end on the really trained stories260K: open, calibrate, quantize
// (plan + layer errors + preview cache), cancellation that leaves the session as it was, the
// live MDQFO preview (replanGroups), layer errors, evaluation and export; and the engine's
// wiring: the compensated forward against a hand computation, inputs captured through the
// quantized earlier groups, perplexity over mixed lengths, exports reloaded with a broken or
// foreign quantization_config, and one engine switching between two models.
// To keep the suite short, calibration uses the first kCalibSeqs sequences of the model's
// calibration set (a full quantize takes ~30-40 s on a CI machine; this one a few seconds).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "test_util.h"

#include "engine.h"
#include "export/hf_export.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/session_store.h"
#include "io/token_data.h"
#include "model/decoder.h"
#include "model/synthetic.h"
#include "pipeline.h"
#include "quant/act_quant.h"
#include "quant/dabc.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <QJsonObject>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

using namespace mq::core;

namespace {

constexpr int kCalibSeqs = 12;   // sequences of the calibration subset
constexpr int kCalibBatch = 4;   // -> 3 batches; quantize measures layer errors on the first 2
constexpr int kEvalSeqs = 8;     // sequences of the evaluation subset
constexpr int64_t kSeqLen = 257; // every sequence of stories260K's JSONL files (README of the model)
constexpr int kModules = 35;     // 5 layers x 7 Linear
constexpr int kGroups = 20;      // 5 layers x 4 inputs ("layers.<i>.attn_in", ..., "layers.<i>.down_in")

std::string stories() { return mq::test::storiesDir(); }

// The first n lines of a JSONL file into `to`; fails the calling test when it cannot.
void writeHead(const std::string& from, const std::string& to, int n)
{
    std::ifstream in(from);
    QVERIFY2(in.good(), from.c_str());
    std::ofstream out(to);
    std::string line;
    int written = 0;
    while (written < n && std::getline(in, line)) {
        out << line << '\n';
        ++written;
    }
    QCOMPARE(written, n);
}

QuantSettings morphoquant(int wbits, int abits)
{
    QuantSettings q;
    q.method = "morphoquant";
    q.weight.format = WeightFormat::Int;
    q.weight.bits = wbits;
    q.abits = abits;
    q.mdqfo.enabled = true; // the default, stated: the preview and the curves below need it
    return q;
}

bool relClose(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)); }

// The first difference between two sessions in everything a stage may change ("" when none).
// Floats compare with ==: a stage that leaves the session alone leaves every bit alone.
std::string sessionDiff(const Session& a, const Session& b)
{
    if (a.model.path != b.model.path || a.model.fingerprint != b.model.fingerprint
        || a.model.architecture != b.model.architecture || a.model.configJson != b.model.configJson)
        return "model";
    if (a.calibration.source != b.calibration.source || a.calibration.kind != b.calibration.kind
        || a.calibration.batchSize != b.calibration.batchSize || a.calibration.sequences != b.calibration.sequences
        || a.calibration.tokens != b.calibration.tokens)
        return "calibration";
    if (a.modules.size() != b.modules.size())
        return "modules";
    for (size_t i = 0; i < a.modules.size(); ++i)
        if (a.modules[i].name != b.modules[i].name || a.modules[i].inputGroup != b.modules[i].inputGroup)
            return "module " + a.modules[i].name;
    if (a.groups != b.groups)
        return "groups";
    if (a.stats.size() != b.stats.size())
        return "stats";
    for (const auto& [g, in] : a.stats) {
        auto o = b.stats.find(g);
        if (o == b.stats.end() || in.pooled.count != o->second.pooled.count || in.pooled.min != o->second.pooled.min
            || in.pooled.max != o->second.pooled.max || in.pooled.sumSq != o->second.pooled.sumSq)
            return "stats " + g;
    }
    if (a.settings.has_value() != b.settings.has_value())
        return "settings (presence)";
    if (a.settings && settingsToJson(*a.settings) != settingsToJson(*b.settings))
        return "settings";
    if (a.plans.size() != b.plans.size())
        return "plans";
    for (const auto& [g, p] : a.plans) {
        auto o = b.plans.find(g);
        if (o == b.plans.end() || p.scores != o->second.scores || p.mask != o->second.mask
            || p.handEdited != o->second.handEdited || p.tauLocal != o->second.tauLocal
            || p.tauGlobal != o->second.tauGlobal || p.alpha0 != o->second.alpha0 || p.alpha != o->second.alpha)
            return "plan " + g;
    }
    if (a.curves.size() != b.curves.size())
        return "curves";
    for (size_t i = 0; i < a.curves.size(); ++i) {
        if (a.curves[i].group != b.curves[i].group || a.curves[i].points.size() != b.curves[i].points.size())
            return "curve " + a.curves[i].group;
        for (size_t j = 0; j < a.curves[i].points.size(); ++j) {
            const LossPoint &p = a.curves[i].points[j], &q = b.curves[i].points[j];
            if (p.step != q.step || p.lp != q.lp || p.lcos != q.lcos || p.total != q.total)
                return "curve " + a.curves[i].group;
        }
    }
    if (a.evals.size() != b.evals.size())
        return "evals";
    for (size_t i = 0; i < a.evals.size(); ++i)
        if (a.evals[i].label != b.evals[i].label || a.evals[i].data != b.evals[i].data
            || a.evals[i].nll != b.evals[i].nll || a.evals[i].tokens != b.evals[i].tokens)
            return "eval " + a.evals[i].label;
    if (a.errors.size() != b.errors.size())
        return "errors (count)";
    for (size_t i = 0; i < a.errors.size(); ++i) {
        const ModuleError &x = a.errors[i], &y = b.errors[i];
        if (x.module != y.module)
            return "errors " + x.module;
        for (int r = 0; r <= kNumModalities; ++r) {
            const ErrorStat& e = r < kNumModalities ? x.perModality[size_t(r)] : x.pooled;
            const ErrorStat& f = r < kNumModalities ? y.perModality[size_t(r)] : y.pooled;
            if (e.tokens != f.tokens || e.sqnrDb != f.sqnrDb || e.cosine != f.cosine)
                return "errors " + x.module;
        }
    }
    return {};
}

// The input groups of one layer, in network order.
std::vector<std::string> groupsOfLayer(const Session& s, int layer)
{
    std::vector<std::string> out;
    for (const ModuleInfo& m : s.modules)
        if (m.layer == layer && std::find(out.begin(), out.end(), m.inputGroup) == out.end())
            out.push_back(m.inputGroup);
    return out;
}

const LossCurve* curveOf(const Session& s, const std::string& group)
{
    for (const LossCurve& c : s.curves)
        if (c.group == group)
            return &c;
    return nullptr;
}

int64_t channelsOf(const Session& s, const std::string& group)
{
    const auto members = s.groupMembers(group);
    return members.empty() ? 0 : members.front()->inFeatures;
}

// Passes every Linear input to `inner` (null: unchanged) and keeps, per input group, what the
// hook was given and what it returned, and per Linear the input it consumed and its output.
class RecordingHook : public ForwardHook {
public:
    explicit RecordingHook(ForwardHook* inner) : m_inner(inner) {}
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        at::Tensor out = m_inner ? m_inner->onLinearInput(group, x, modality) : x;
        given[group] = x.clone();
        returned[group] = out.clone();
        return out;
    }
    void onLinearOutput(int module, const at::Tensor& input, const at::Tensor& y) override
    {
        consumed[module] = input.clone();
        outputs[module] = y.clone();
    }
    std::map<int, at::Tensor> given, returned, consumed, outputs;

private:
    ForwardHook* m_inner;
};

// Per input group, max |x_c| of the group's input over every row of every batch, where x is
// what the forward hands the hook (before the hook quantizes it: the rows MDQFO captures).
class AmaxHook : public ForwardHook {
public:
    explicit AmaxHook(ForwardHook* inner) : m_inner(inner) {}
    at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& modality) override
    {
        const at::Tensor a = x.abs().amax(0);
        auto it = amax.find(group);
        if (it == amax.end())
            amax[group] = a;
        else
            it->second = at::maximum(it->second, a);
        return m_inner ? m_inner->onLinearInput(group, x, modality) : x;
    }
    std::map<int, at::Tensor> amax;

private:
    ForwardHook* m_inner;
};

// The largest |a_c - b_c| / b_c over the channels.
double maxRelDiff(const at::Tensor& a, const std::vector<float>& b)
{
    const at::Tensor bt = at::tensor(b, at::TensorOptions().dtype(at::kFloat)).to(at::kDouble);
    return ((a.to(at::kDouble) - bt).abs() / bt.abs().clamp_min(1e-30)).max().item<double>();
}

// A token JSONL of the given sequences.
void writeTokens(const std::string& path, const std::vector<std::vector<int64_t>>& seqs)
{
    std::ofstream out(path);
    for (const std::vector<int64_t>& q : seqs)
        out << nlohmann::json{{"input_ids", q}}.dump() << '\n';
    QVERIFY2(out.good(), path.c_str());
}

// Sum over the predicted tokens of one sequence of -log softmax(logits)[next token], from the
// model's logits (float32) with the log-softmax in float64.
double handNllSum(const DecoderModel& m, ForwardHook* hook, const std::vector<int64_t>& seq)
{
    const int64_t T = int64_t(seq.size());
    const at::Tensor ids = at::tensor(seq, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
    const at::Tensor logp = at::log_softmax(m.forward(ids, hook)[0].to(at::kDouble), -1);
    double sum = 0.0;
    for (int64_t t = 0; t + 1 < T; ++t)
        sum -= logp[t][seq[size_t(t + 1)]].item<double>();
    return sum;
}

// Copies a (flat) folder.
void copyFolder(const std::string& from, const std::string& to)
{
    namespace fs = std::filesystem;
    fs::create_directories(to);
    for (const auto& e : fs::directory_iterator(from))
        fs::copy_file(e.path(), fs::path(to) / e.path().filename(), fs::copy_options::overwrite_existing);
}

// What loadModelForEval says about a folder: "" when it loads; an InputError's message; any other
// exception's message marked as such (a crash-like error that names no file).
std::string reloadError(const std::string& dir)
{
    try {
        loadModelForEval(dir);
    } catch (const InputError& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("NOT AN InputError: ") + e.what();
    }
    return {};
}

} // namespace

class TestEngine : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::string m_calib, m_eval;
    Engine m_engine;
    Session m_opened;     // openModel only
    Session m_calibrated; // + calibrate (subset, batch kCalibBatch)
    Session m_w4;         // + quantize morphoquant W4A4

    // The wiring slots below read m_w4; run alone (tst_engine <slot>) they build it first, as
    // openModelFillsModulesAndGroups, calibrateSubset and quantizeW4A4 do.
    void ensureW4()
    {
        if (m_w4.settings)
            return;
        Session s;
        m_engine.openModel(s, stories());
        m_engine.calibrate(s, {m_calib, "tokens", kCalibBatch, ""});
        m_engine.quantize(s, morphoquant(4, 4));
        m_w4 = s;
    }

private slots:
    void initTestCase()
    {
        // Deterministic figures and no contention with OpenBLAS's own threads on this tiny model
        // (bench/README.md): one intra-op thread.
        at::set_num_threads(1);
        QVERIFY(m_tmp.isValid());
        m_calib = m_tmp.filePath("calib.jsonl").toStdString();
        m_eval = m_tmp.filePath("eval.jsonl").toStdString();
        writeHead(stories() + "/calibration.jsonl", m_calib, kCalibSeqs);
        writeHead(stories() + "/evaluation.jsonl", m_eval, kEvalSeqs);
        m_engine.previewRows = 1 << 20; // holds every captured row (kCalibSeqs * 257): the preview must match
    }

    void openModelFillsModulesAndGroups()
    {
        Session s;
        int events = 0;
        m_engine.openModel(s, stories(), [&](const ProgressEvent& e) {
            QCOMPARE(QString::fromStdString(e.stage), QStringLiteral("open"));
            ++events;
        });
        QVERIFY(events >= 1);
        QCOMPARE(s.model.path, stories());
        QCOMPARE(s.model.architecture, std::string("llama"));
        QVERIFY2(contains(s.model.fingerprint, "fnv1a64:"), s.model.fingerprint.c_str());
        QVERIFY(contains(s.model.configJson, "\"hidden_size\""));
        QCOMPARE(int(s.modules.size()), kModules);
        QCOMPARE(int(s.groups.size()), kGroups);
        const std::set<std::string> groups(s.groups.begin(), s.groups.end());
        QCOMPARE(int(groups.size()), kGroups); // no duplicates
        int down = 0;
        for (const ModuleInfo& m : s.modules) {
            QVERIFY2(groups.count(m.inputGroup), m.inputGroup.c_str());
            QVERIFY(m.layer >= 0 && m.layer < 5);
            QVERIFY(m.inFeatures > 0 && m.outFeatures > 0);
            if (m.kind == "down_proj") {
                ++down;
                QCOMPARE(m.inFeatures, int64_t(172)); // intermediate size (README of the model)
            }
        }
        QCOMPARE(down, 5);
        QVERIFY(s.stats.empty() && s.plans.empty() && !s.settings && s.errors.empty());
        m_opened = s;
    }

    void openMissingFolderThrowsAndKeepsSession()
    {
        Session s = m_opened;
        const std::string missing = m_tmp.filePath("no-such-model").toStdString();
        try {
            m_engine.openModel(s, missing);
            QFAIL("opening a missing folder should throw");
        } catch (const Error& e) {
            QVERIFY2(contains(e.what(), missing), e.what());
        }
        QCOMPARE(sessionDiff(s, m_opened), std::string());
    }

    // A quantized checkpoint (here stories260K's config with a quantization_config, as an
    // export has) is refused, naming its config.json and quant_method, before anything is read:
    // its weights would be quantized a second time. The session stays as it was.
    void openQuantizedCheckpointThrowsAndKeepsSession()
    {
        const QString dir = m_tmp.filePath("quantized-checkpoint");
        QVERIFY(QDir().mkpath(dir));
        QFile in(QString::fromStdString(mq::test::storiesDir() + "/config.json"));
        QVERIFY(in.open(QIODevice::ReadOnly));
        QJsonObject cfg = QJsonDocument::fromJson(in.readAll()).object();
        cfg["quantization_config"] = QJsonObject{{"quant_method", "compressed-tensors"}};
        QFile out(dir + "/config.json");
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(QJsonDocument(cfg).toJson());
        out.close();
        Session s = m_opened;
        try {
            m_engine.openModel(s, dir.toStdString());
            QFAIL("a quantized checkpoint was opened as a full-precision model");
        } catch (const InputError& e) {
            QVERIFY2(contains(e.what(), "config.json") && contains(e.what(), "compressed-tensors"), e.what());
        }
        QCOMPARE(sessionDiff(s, m_opened), std::string());
    }

    void stagesBeforeTheirInputsThrow()
    {
        // No calibration source yet: quantize says what to do first, and touches nothing.
        Session s = m_opened;
        try {
            m_engine.quantize(s, morphoquant(4, 4));
            QFAIL("quantize without calibration should throw");
        } catch (const Error& e) {
            QVERIFY2(contains(e.what(), "calibrate first"), e.what());
        }
        QCOMPARE(sessionDiff(s, m_opened), std::string());
        // A session without a model: every stage refuses.
        Session none;
        const CalibrationSourceSpec spec{m_calib, "tokens", kCalibBatch, ""};
        QVERIFY_EXCEPTION_THROWN(m_engine.calibrate(none, spec), Error);
        // Nothing quantized yet on this engine: no preview.
        QVERIFY(!m_engine.hasPreviewCache(m_opened));
        QVERIFY_EXCEPTION_THROWN(m_engine.replanGroups(m_opened, {m_opened.groups.front()}, morphoquant(4, 4)), Error);
    }

    void calibrateSubset()
    {
        Session s = m_opened;
        int events = 0;
        m_engine.calibrate(s, {m_calib, "tokens", kCalibBatch, ""}, [&](const ProgressEvent&) { ++events; });
        QVERIFY(events >= 1);
        QCOMPARE(s.calibration.source, m_calib);
        QCOMPARE(s.calibration.kind, std::string("tokens"));
        QCOMPARE(s.calibration.batchSize, kCalibBatch);
        QCOMPARE(s.calibration.sequences, int64_t(kCalibSeqs));
        QCOMPARE(s.calibration.tokens[size_t(Modality::Text)], kCalibSeqs * kSeqLen);
        QCOMPARE(s.calibration.totalTokens(), kCalibSeqs * kSeqLen);
        QCOMPARE(int(s.stats.size()), kGroups);
        for (const std::string& g : s.groups) {
            QVERIFY2(s.stats.count(g), g.c_str());
            // Every token passes every decoder Linear input once.
            QCOMPARE(s.stats.at(g).pooled.count, kCalibSeqs * kSeqLen);
            QCOMPARE(s.stats.at(g).pooled.channels, channelsOf(s, g));
        }
        QVERIFY(s.plans.empty() && !s.settings && s.errors.empty() && s.curves.empty());
        m_calibrated = s;
    }

    void layerErrorsWithoutPlanThrows()
    {
        Session s = m_calibrated;
        try {
            m_engine.layerErrors(s);
            QFAIL("layer errors without a plan should throw");
        } catch (const Error& e) {
            QVERIFY2(contains(e.what(), "quantize first"), e.what());
        }
        QCOMPARE(sessionDiff(s, m_calibrated), std::string());
        QVERIFY(!m_engine.hasPreviewCache(m_calibrated));
    }

    void quantizeW4A4()
    {
        Session s = m_calibrated;
        std::set<std::string> stages;
        m_engine.quantize(s, morphoquant(4, 4), [&](const ProgressEvent& e) { stages.insert(e.stage); });
        QVERIFY(stages.count("mdqfo"));
        QVERIFY(stages.count("errors"));
        QVERIFY(s.settings.has_value());
        QVERIFY(s.settings->act == ActScheme::PerChannelStatic); // morphoquant with 4-bit activations
        QCOMPARE(s.settings->abits, 4);
        QCOMPARE(s.calibration.source, m_calib); // quantize keeps the statistics it planned on
        QCOMPARE(int(s.plans.size()), kGroups);
        const MdqfoSettings st;
        int64_t masked = 0;
        for (const std::string& g : s.groups) {
            QVERIFY2(s.plans.count(g), g.c_str());
            const GroupPlan& p = s.plans.at(g);
            const size_t k = size_t(channelsOf(s, g));
            QCOMPARE(p.mask.size(), k);
            QCOMPARE(p.alpha0.size(), k);
            QCOMPARE(p.alpha.size(), k);
            for (size_t c = 0; c < k; ++c) {
                masked += p.mask[c];
                // The grid solver picks alpha = r * alpha0 with r in [rMin, rMax] (float rounding aside).
                QVERIFY(p.alpha0[c] > 0.0f);
                QVERIFY2(p.alpha[c] <= p.alpha0[c] * (st.rMax + 1e-6) && p.alpha[c] >= p.alpha0[c] * (st.rMin - 1e-6),
                         qPrintable(QStringLiteral("%1[%2]: alpha %3, alpha0 %4")
                                        .arg(QString::fromStdString(g)).arg(c).arg(p.alpha[c]).arg(p.alpha0[c])));
            }
            // the default's cap: at most 1/24 of the group's channels (the highest D_c first)
            const int64_t groupMasked = std::count(p.mask.begin(), p.mask.end(), uint8_t(1));
            QVERIFY2(groupMasked <= int64_t(k) / 24, g.c_str());
            for (size_t c = 0; c < k; ++c)
                for (size_t d = 0; d < k; ++d)
                    if (p.mask[c] && !p.mask[d] && !p.handEdited[d])
                        QVERIFY(p.scores[c] >= p.scores[d] || (p.scores[d] <= p.tauLocal && p.scores[d] <= p.tauGlobal));
            const LossCurve* c = curveOf(s, g);
            QVERIFY2(c && c->points.size() >= 2, g.c_str());
            QCOMPARE(c->points.front().step, 0);
            for (const LossPoint& pt : c->points)
                QVERIFY(std::isfinite(pt.total) && pt.total >= 0.0);
        }
        QVERIFY(masked > 0);
        QCOMPARE(int(s.curves.size()), kGroups);

        // One ModuleError per decoder Linear, network order, measured on the first 2 batches.
        QCOMPARE(int(s.errors.size()), kModules);
        for (size_t i = 0; i < s.errors.size(); ++i) {
            const ModuleError& e = s.errors[i];
            QCOMPARE(e.module, s.modules[i].name);
            QCOMPARE(e.pooled.tokens, 2 * kCalibBatch * kSeqLen);
            QCOMPARE(e.perModality[size_t(Modality::Text)].tokens, e.pooled.tokens);
            for (int m = 0; m < kNumModalities; ++m)
                if (m != int(Modality::Text))
                    QCOMPARE(e.perModality[size_t(m)].tokens, int64_t(0));
            // 4-bit weights always cost something (so below the 200 dB clamp), and a useful
            // quantizer keeps more signal than noise (SQNR > 0 dB).
            const QString name = QString::fromStdString(e.module);
            QVERIFY2(std::isfinite(e.pooled.sqnrDb) && e.pooled.sqnrDb > 0.0 && e.pooled.sqnrDb < 200.0,
                     qPrintable(QStringLiteral("%1: %2 dB").arg(name).arg(e.pooled.sqnrDb)));
            QVERIFY2(e.pooled.cosine > 0.0 && e.pooled.cosine <= 1.0 + 1e-12,
                     qPrintable(QStringLiteral("%1: cosine %2").arg(name).arg(e.pooled.cosine)));
        }
        QVERIFY(m_engine.hasPreviewCache(s));
        QVERIFY(!m_engine.hasPreviewCache(m_calibrated)); // no plan: nothing to preview
        m_w4 = s;
    }

    void layerErrorsRecomputes()
    {
        // Same plan, same first 2 batches, same thread count: the same figures, to float noise.
        Session s = m_w4;
        s.errors.clear();
        m_engine.layerErrors(s, 2);
        QCOMPARE(s.errors.size(), m_w4.errors.size());
        for (size_t i = 0; i < s.errors.size(); ++i) {
            QCOMPARE(s.errors[i].pooled.tokens, m_w4.errors[i].pooled.tokens);
            QVERIFY(std::fabs(s.errors[i].pooled.sqnrDb - m_w4.errors[i].pooled.sqnrDb) < 1e-6);
            QVERIFY(std::fabs(s.errors[i].pooled.cosine - m_w4.errors[i].pooled.cosine) < 1e-9);
        }
        // maxBatches 0: every batch, so every calibration token.
        m_engine.layerErrors(s, 0);
        for (const ModuleError& e : s.errors)
            QCOMPARE(e.pooled.tokens, kCalibSeqs * kSeqLen);
        s.errors = m_w4.errors;
        QCOMPARE(sessionDiff(s, m_w4), std::string()); // layerErrors changes nothing else
    }

    void replanSameSettingsReproducesPlan()
    {
        // The cache holds every captured row (previewRows above the row count), the mask is the
        // plan's, alpha0 is max|X_c| over the same rows, and the grid solver is deterministic
        // (each ratio's score is summed by one thread in a fixed order): the preview runs the
        // very computation quantize ran, so alpha and the curve must match to float rounding.
        // 1e-6 relative is ~8 float32 ulps of slack; a preview on other rows (a subsample, or
        // inputs captured through another prefix) moves alpha by whole grid steps (~3.7%).
        for (int layer : {0, 2, 4}) {
            const std::vector<std::string> groups = groupsOfLayer(m_w4, layer);
            QCOMPARE(int(groups.size()), 4);
            const std::vector<GroupPreview> out = m_engine.replanGroups(m_w4, groups, *m_w4.settings);
            QCOMPARE(out.size(), groups.size());
            for (size_t i = 0; i < out.size(); ++i) {
                const GroupPreview& p = out[i];
                QCOMPARE(p.group, groups[i]); // in the order given
                const GroupPlan& plan = m_w4.plans.at(p.group);
                QVERIFY(p.plan.mask == plan.mask);
                QVERIFY(p.plan.alpha0 == plan.alpha0); // the same max over the same rows: exact
                QCOMPARE(p.plan.alpha.size(), plan.alpha.size());
                for (size_t c = 0; c < plan.alpha.size(); ++c)
                    QVERIFY2(relClose(p.plan.alpha[c], plan.alpha[c], 1e-6),
                             qPrintable(QStringLiteral("%1[%2]: preview %3, plan %4")
                                            .arg(QString::fromStdString(p.group)).arg(c).arg(p.plan.alpha[c])
                                            .arg(plan.alpha[c])));
                const LossCurve* c = curveOf(m_w4, p.group);
                QVERIFY(c);
                QCOMPARE(p.curve.group, p.group);
                QCOMPARE(p.curve.points.size(), c->points.size());
                for (size_t j = 0; j < c->points.size(); ++j)
                    QVERIFY(relClose(p.curve.points[j].total, c->points[j].total, 1e-6));
            }
        }
    }

    void replanFollowsPAndLambda()
    {
        const std::vector<std::string> groups = groupsOfLayer(m_w4, 1);
        const std::vector<GroupPreview> base = m_engine.replanGroups(m_w4, groups, *m_w4.settings);

        QuantSettings p05 = *m_w4.settings;
        p05.mdqfo.p = 0.5;
        const std::vector<GroupPreview> a = m_engine.replanGroups(m_w4, groups, p05);
        QuantSettings cos0 = *m_w4.settings;
        cos0.mdqfo.lambdaCos = 0.0;
        const std::vector<GroupPreview> b = m_engine.replanGroups(m_w4, groups, cos0);
        QuantSettings cos8 = *m_w4.settings;
        cos8.mdqfo.lambdaCos = 8.0;
        const std::vector<GroupPreview> c = m_engine.replanGroups(m_w4, groups, cos8);

        int alphaChangedP = 0, alphaChangedLambda = 0;
        for (size_t i = 0; i < groups.size(); ++i) {
            // Step 0 is the loss at alpha0 on the same rows: only the loss's definition differs.
            const LossPoint& b0 = base[i].curve.points.front();
            const LossPoint& a0 = a[i].curve.points.front();
            const std::vector<uint8_t>& mask = m_w4.plans.at(groups[i]).mask;
            if (std::all_of(mask.begin(), mask.end(), [](uint8_t b) { return b == 1; })) {
                // Every channel compensated (down_in, forced) at rho 0: X_hat == X, no error at all.
                QCOMPARE(a0.lp, 0.0);
                QCOMPARE(b0.lp, 0.0);
            } else {
                QVERIFY2(a0.lp != b0.lp, groups[i].c_str()); // mean |e|^0.5 vs mean e^2
                QVERIFY(b0.lcos > 0.0);                      // so the weight of L_cos shows
                QVERIFY(c[i].curve.points.front().total > b[i].curve.points.front().total);
            }
            QVERIFY(relClose(a0.lcos, b0.lcos, 1e-9));   // cosine term does not depend on p
            // total = L_p + lambda_cos * L_cos at every step.
            for (const LossPoint& pt : b[i].curve.points)
                QVERIFY(relClose(pt.total, pt.lp, 1e-9) || std::fabs(pt.total - pt.lp) < 1e-15);
            for (const LossPoint& pt : c[i].curve.points)
                QVERIFY(relClose(pt.total, pt.lp + 8.0 * pt.lcos, 1e-9));
            if (a[i].plan.alpha != base[i].plan.alpha)
                ++alphaChangedP;
            if (b[i].plan.alpha != c[i].plan.alpha)
                ++alphaChangedLambda;
            // Masks and alpha0 are the plan's whatever the solver settings.
            QVERIFY(a[i].plan.mask == m_w4.plans.at(groups[i]).mask);
            QVERIFY(a[i].plan.alpha0 == m_w4.plans.at(groups[i]).alpha0);
        }
        // Another loss picks other bounds somewhere in the layer (not necessarily in every group).
        QVERIFY2(alphaChangedP > 0, "p = 0.5 left every alpha of layer 1 as at p = 2");
        QVERIFY2(alphaChangedLambda > 0, "lambda_cos 0 and 8 gave the same alpha on layer 1");

        // MDQFO off: alpha = alpha0, no curve.
        QuantSettings off = *m_w4.settings;
        off.mdqfo.enabled = false;
        const std::vector<GroupPreview> d = m_engine.replanGroups(m_w4, {groups.front()}, off);
        QVERIFY(d.front().plan.alpha == d.front().plan.alpha0);
        QVERIFY(d.front().curve.points.empty());
    }

    void replanUnknownGroupThrows()
    {
        QVERIFY_EXCEPTION_THROWN(m_engine.replanGroups(m_w4, {"layers.9.attn_in"}, *m_w4.settings), Error);
    }

    void cancelLeavesSessionUnchanged_data()
    {
        QTest::addColumn<QString>("at"); // cancel at the first event of this stage ("" = the very first event)
        QTest::newRow("first event") << "";
        QTest::newRow("layer errors") << "errors"; // the plan is complete by then, not yet assigned
    }

    void cancelLeavesSessionUnchanged()
    {
        QFETCH(QString, at);
        // Other settings than the session's plan, so a run that did assign would show.
        QuantSettings other = morphoquant(4, 4);
        other.mdqfo.p = 3.0;
        other.dabc.k = 1.5;
        Session s = m_w4;
        CancelToken token;
        int events = 0;
        try {
            m_engine.quantize(
                s, other,
                [&](const ProgressEvent& e) {
                    ++events;
                    if (at.isEmpty() || QString::fromStdString(e.stage) == at)
                        token.cancel();
                },
                &token);
            QFAIL("a cancelled quantize should throw Cancelled");
        } catch (const Cancelled&) {
        }
        QVERIFY(events >= 1);
        QVERIFY(token.isCancelled());
        QCOMPARE(sessionDiff(s, m_w4), std::string());
        // The preview cache is the completed run's, not the cancelled one's.
        QVERIFY(m_engine.hasPreviewCache(m_w4));
        const std::string g = groupsOfLayer(m_w4, 3).front();
        const std::vector<GroupPreview> out = m_engine.replanGroups(m_w4, {g}, *m_w4.settings);
        for (size_t c = 0; c < out.front().plan.alpha.size(); ++c)
            QVERIFY(relClose(out.front().plan.alpha[c], m_w4.plans.at(g).alpha[c], 1e-6));
    }

    void previewKeepsActivationBits()
    {
        // The cached inputs and the plan are for the plan's activation bits; another width
        // needs a new quantization, not a preview.
        QuantSettings other = *m_w4.settings;
        other.abits = 8;
        QVERIFY_EXCEPTION_THROWN(m_engine.replanGroups(m_w4, groupsOfLayer(m_w4, 0), other), Error);
    }

    void cancelledPreviewThrows()
    {
        CancelToken token;
        token.cancel();
        const std::vector<std::string> groups = groupsOfLayer(m_w4, 0);
        QVERIFY_EXCEPTION_THROWN(m_engine.replanGroups(m_w4, groups, *m_w4.settings, &token), Cancelled);
    }

    void evaluate()
    {
        Session s = m_w4;
        // Without a plan only full precision can be evaluated.
        Session plain = m_calibrated;
        QVERIFY_EXCEPTION_THROWN(m_engine.evaluate(plain, m_eval, false), Error);
        QVERIFY(plain.evals.empty());

        m_engine.evaluate(s, m_eval, true, 4);
        QCOMPARE(int(s.evals.size()), 2);
        QCOMPARE(s.evals[0].label, std::string("full precision"));
        QCOMPARE(s.evals[1].label, m_w4.settings->label());
        // The quantized result names the plan it was measured under; full precision none.
        QCOMPARE(s.evals[1].plan, planFingerprint(s));
        QVERIFY(s.evals[0].plan.empty());
        // Quantize measured the layer errors and curves under the same plan.
        QCOMPARE(m_w4.resultsPlan, planFingerprint(m_w4));
        QCOMPARE(m_w4.curvesPlan, m_w4.resultsPlan);
        // evaluateNll counts predicted tokens: len - 1 per sequence.
        const int64_t predicted = kEvalSeqs * (kSeqLen - 1);
        for (const EvalResult& e : s.evals) {
            QCOMPARE(e.data, m_eval);
            QCOMPARE(e.tokens, predicted);
            // Mean NLL over a 512-token vocabulary: positive, and far below a uniform guess.
            QVERIFY2(std::isfinite(e.nll) && e.nll > 0.0 && e.nll < std::log(512.0),
                     qPrintable(QString::number(e.nll)));
            QVERIFY(relClose(e.ppl, std::exp(e.nll), 1e-12));
        }
        const std::vector<EvalResult> first = s.evals;

        // Again: replaced in place (same labels and data), not appended; same figures.
        m_engine.evaluate(s, m_eval, true, 4);
        QCOMPARE(int(s.evals.size()), 2);
        for (size_t i = 0; i < first.size(); ++i) {
            QCOMPARE(s.evals[i].label, first[i].label);
            QVERIFY(std::fabs(s.evals[i].nll - first[i].nll) < 1e-9);
        }
        // Another data file is another result. On the full evaluation set, the model README's
        // full-precision reference (1.278281 nats over 16384 tokens, computed in float64) holds to
        // the 1e-4 the CLI's test uses.
        m_engine.evaluate(s, stories() + "/evaluation.jsonl", true);
        QCOMPARE(int(s.evals.size()), 4);
        QCOMPARE(s.evals[2].label, std::string("full precision"));
        QCOMPARE(s.evals[2].tokens, int64_t(16384));
        QVERIFY2(std::fabs(s.evals[2].nll - 1.278281) < 1e-4, qPrintable(QString::number(s.evals[2].nll, 'g', 10)));
        QCOMPARE(s.evals[3].tokens, int64_t(16384));
        QVERIFY(std::isfinite(s.evals[3].nll));
        // Evaluation adds results and nothing else.
        s.evals.clear();
        QCOMPARE(sessionDiff(s, m_w4), std::string());
    }

    void exportModel()
    {
        const std::string dir = m_tmp.filePath("export").toStdString();
        const ExportReport r = m_engine.exportModel(m_w4, dir, false);
        QVERIFY(QDir(QString::fromStdString(r.dir)).exists());
        QVERIFY(QFile::exists(QString::fromStdString(r.dir + "/model.safetensors")));
        QVERIFY(QFile::exists(QString::fromStdString(r.dir + "/config.json")));
        QCOMPARE(r.representation, std::string("morphoquant-sim v1"));
        QCOMPARE(r.label, m_w4.settings->label());
        QVERIFY(r.tensors > 0);
        QVERIFY(r.bytes > 0);
        int64_t total = 0, masked = 0;
        for (const std::string& g : m_w4.groups) {
            total += channelsOf(m_w4, g);
            for (uint8_t b : m_w4.plans.at(g).mask)
                masked += b;
        }
        QCOMPARE(r.totalChannels, total);
        QCOMPARE(r.maskedChannels, masked);
        QVERIFY(r.maskedChannels <= r.totalChannels);

        // A folder that holds something is not replaced without overwrite, and is left as it was.
        const QString taken = m_tmp.filePath("taken");
        QVERIFY(QDir().mkpath(taken));
        writeBytes(taken + "/keep.txt", "mine");
        try {
            m_engine.exportModel(m_w4, taken.toStdString(), false);
            QFAIL("export into a non-empty folder without overwrite should throw");
        } catch (const InputError& e) {
            QVERIFY2(contains(e.what(), "already exists"), e.what());
        }
        const QStringList left = QDir(taken).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
        QCOMPARE(left, QStringList{"keep.txt"});
        QFile keep(taken + "/keep.txt");
        QVERIFY(keep.open(QIODevice::ReadOnly));
        QCOMPARE(keep.readAll(), QByteArray("mine"));
        keep.close();
        // No temporary folder left beside it.
        QCOMPARE(QDir(m_tmp.path()).entryList(QStringList{"*.tmp-*"}, QDir::AllEntries | QDir::Hidden), QStringList{});

        // With overwrite it is replaced by the export.
        const ExportReport again = m_engine.exportModel(m_w4, taken.toStdString(), true);
        QVERIFY(!QFile::exists(taken + "/keep.txt"));
        QVERIFY(QFile::exists(taken + "/model.safetensors"));
        QCOMPARE(again.tensors, r.tensors);
        QCOMPARE(again.bytes, r.bytes);

        // No plan: nothing to export.
        const std::string none = m_tmp.filePath("none").toStdString();
        QVERIFY_EXCEPTION_THROWN(m_engine.exportModel(m_calibrated, none, false), Error);
        QVERIFY(!QFile::exists(m_tmp.filePath("none")));
    }

    void replanFromSubsampledCache()
    {
        // A cache smaller than the captured rows keeps every n-th row: the preview then runs on
        // fewer rows (alpha may move by grid steps) but alpha0 is still the plan's, the maximum
        // over every row, and alpha stays on the grid [rMin, rMax] * alpha0.
        m_engine.previewRows = 600; // 3084 rows -> every 6th, 514 rows
        Session s = m_calibrated;
        m_engine.quantize(s, morphoquant(4, 4));
        m_engine.previewRows = 1 << 20;
        // The plan does not depend on the cache, and quantize is deterministic: the same session.
        QCOMPARE(sessionDiff(s, m_w4), std::string());
        const MdqfoSettings st;
        const std::vector<std::string> groups = groupsOfLayer(s, 2);
        const std::vector<GroupPreview> out = m_engine.replanGroups(s, groups, *s.settings);
        for (const GroupPreview& p : out) {
            const GroupPlan& plan = s.plans.at(p.group);
            QVERIFY(p.plan.alpha0 == plan.alpha0);
            for (size_t c = 0; c < plan.alpha0.size(); ++c)
                QVERIFY(p.plan.alpha[c] <= plan.alpha0[c] * (st.rMax + 1e-6)
                        && p.plan.alpha[c] >= plan.alpha0[c] * (st.rMin - 1e-6));
        }
    }

    void higherBitsGiveHigherSqnr()
    {
        // The same calibration at W8A8: each extra bit of a uniform quantizer buys ~6 dB, so 4
        // more bits of weights and activations shrink both error sources ~16x (~24 dB; DABC's
        // compensated channels are exact at both widths). We assert half of that, 12 dB, for
        // every module (measured: at least ~23 dB). (Run last: it replaces the preview cache.)
        Session s = m_calibrated;
        m_engine.quantize(s, morphoquant(8, 8));
        QCOMPARE(s.errors.size(), m_w4.errors.size());
        double minGain = 1e9;
        for (size_t i = 0; i < s.errors.size(); ++i) {
            const double w8 = s.errors[i].pooled.sqnrDb, w4 = m_w4.errors[i].pooled.sqnrDb;
            QVERIFY2(w8 > w4 + 12.0, qPrintable(QStringLiteral("%1: W8A8 %2 dB, W4A4 %3 dB")
                                              .arg(QString::fromStdString(s.errors[i].module)).arg(w8).arg(w4)));
            QVERIFY(s.errors[i].pooled.cosine >= m_w4.errors[i].pooled.cosine);
            minGain = std::min(minGain, w8 - w4);
        }
        qInfo("smallest SQNR gain W4A4 -> W8A8 over the %d modules: %.2f dB", int(s.errors.size()), minGain);

        // The cache now holds the W8A8 run's inputs: it serves that plan, and no longer the W4A4
        // plan of the same model and data (its inputs went through a different quantized prefix).
        QVERIFY(m_engine.hasPreviewCache(s));
        QVERIFY(!m_engine.hasPreviewCache(m_w4));
        QVERIFY_EXCEPTION_THROWN(m_engine.replanGroups(m_w4, groupsOfLayer(m_w4, 2), *m_w4.settings), Error);
        // A plan tuned from the W8A8 run (a hand-edited mask) is still served.
        Session tuned = s;
        GroupPlan& p = tuned.plans.at(groupsOfLayer(tuned, 2).front());
        p.mask[0] = uint8_t(1 - p.mask[0]);
        QVERIFY(m_engine.hasPreviewCache(tuned));
    }

    // ---- The engine's wiring (issue 13, item 6) ----

    void hookMatchesHandComputation_data()
    {
        QTest::addColumn<double>("rho");
        QTest::newRow("rho 0 (Eq. 7)") << 0.0;
        QTest::newRow("rho 0.5") << 0.5;
    }

    // The compensated forward as the engine runs it: the session's W4A4 plan made into the
    // simulated model the engine evaluates (makeQuantizedModel: groupQuantFromPlan + QuantSimHook,
    // rho from the settings), one forward of 2 x 24 evaluation tokens. For every input group the
    // hook's output is checked against a hand computation from the plan's alpha and mask, looked
    // up by the group's *name* (so a group given another group's bounds fails): each element on
    // the grid of 2^(4-1)-1 = 7 levels each side of [-alpha_c, alpha_c] (round half to even),
    // except in masked channels where |x| > rho * alpha_c (every element at rho 0): there x itself.
    // For every Linear, its output against X_hat W_Q^T + b in float64 and against dabcLinear.
    void hookMatchesHandComputation()
    {
        ensureW4();
        QFETCH(double, rho);
        QVERIFY(m_w4.settings && m_w4.settings->act == ActScheme::PerChannelStatic && m_w4.settings->abits == 4);
        const DecoderModel model = DecoderModel::load(stories());
        Session s = m_w4;
        s.settings->dabc.rho = rho;
        const QuantizedModel q = makeQuantizedModel(model, s);
        const TokenDataset eval = loadTokenDataset(m_eval);
        at::Tensor ids = at::empty({2, 24}, at::TensorOptions().dtype(at::kLong));
        for (int64_t b = 0; b < 2; ++b)
            for (int64_t t = 0; t < 24; ++t)
                ids[b][t] = eval.sequences[size_t(b)][size_t(t)];
        RecordingHook rec(q.hook.get());
        q.model.forward(ids, &rec);
        QCOMPARE(int(rec.given.size()), kGroups);
        QCOMPARE(int(rec.outputs.size()), kModules);

        const double qmax = 7.0;
        // Float32 results of magnitude <= max(|x|, alpha_c) (the hook computes in float32): a few
        // ulps (2^-24 relative) apart from the float64 hand value; 1e-6 is ~16 ulps. A wrong bound
        // or mask moves an element by up to a grid step, alpha_c / 7.
        const double elemRel = 1e-6;
        int64_t compensated = 0, clipped = 0, maskedOnGrid = 0, undecided = 0, elements = 0;
        int mixedGroups = 0;
        std::map<int, at::Tensor> hand; // per group: X_hat in float64
        for (int g = 0; g < kGroups; ++g) {
            const std::string& name = model.groups()[size_t(g)];
            const GroupPlan& p = s.plans.at(name);
            const at::Tensor x = rec.given.at(g).to(at::kDouble).contiguous();
            const at::Tensor got = rec.returned.at(g).to(at::kDouble).contiguous();
            const int64_t rows = x.size(0), k = x.size(1);
            QCOMPARE(rows, int64_t(48));
            QCOMPARE(size_t(k), p.alpha.size());
            QCOMPARE(size_t(k), p.mask.size());
            const int64_t nMasked = std::count(p.mask.begin(), p.mask.end(), uint8_t(1));
            if (nMasked > 0 && nMasked < k)
                ++mixedGroups;
            at::Tensor h = at::empty({rows, k}, at::TensorOptions().dtype(at::kDouble));
            const auto X = x.accessor<double, 2>();
            const auto G = got.accessor<double, 2>();
            auto H = h.accessor<double, 2>();
            for (int64_t r = 0; r < rows; ++r) {
                for (int64_t c = 0; c < k; ++c) {
                    const double a = double(p.alpha[size_t(c)]), xv = X[r][c], step = a / qmax;
                    const double tol = elemRel * std::max(std::fabs(xv), a);
                    auto onGrid = [&](double level) { return std::clamp(std::clamp(level, -qmax, qmax) * step, -a, a); };
                    const double v = xv / step;
                    const double level = std::nearbyint(v); // the default rounding mode: half to even
                    const bool masked = p.mask[size_t(c)] != 0;
                    const bool comp = masked && (rho == 0.0 || std::fabs(xv) > rho * a);
                    double expected = comp ? xv : onGrid(level);
                    // Where float32 may decide the other way: x / step within rounding of a
                    // half-integer (the neighbour level), or |x| within rounding of rho * alpha_c.
                    // Either answer is accepted there, and the hook's value is used below.
                    const bool nearTie = std::fabs(std::fabs(v - std::floor(v)) - 0.5) < 1e-5;
                    const bool nearRho = masked && rho > 0.0 && std::fabs(std::fabs(xv) - rho * a) <= 1e-6 * a;
                    bool ok = std::fabs(G[r][c] - expected) <= tol;
                    if (!ok && (nearTie || nearRho)) {
                        const double other = nearRho ? (comp ? onGrid(level) : xv)
                                                     : onGrid(v - std::floor(v) < 0.5 ? std::floor(v) + 1 : std::floor(v));
                        ok = std::fabs(G[r][c] - other) <= tol;
                    }
                    if (nearTie || nearRho) {
                        ++undecided;
                        expected = G[r][c];
                    }
                    QVERIFY2(ok, qPrintable(QStringLiteral("%1 row %2 channel %3: x %4, alpha %5, mask %6: hook %7, hand %8")
                                                .arg(QString::fromStdString(name)).arg(r).arg(c).arg(xv, 0, 'g', 9)
                                                .arg(a, 0, 'g', 9).arg(int(masked)).arg(G[r][c], 0, 'g', 9)
                                                .arg(expected, 0, 'g', 9)));
                    H[r][c] = expected;
                    ++elements;
                    if (comp && std::fabs(xv - onGrid(level)) > tol)
                        ++compensated;
                    if (!comp && std::fabs(xv) > a)
                        ++clipped;
                    if (masked && !comp)
                        ++maskedOnGrid;
                }
            }
            hand[g] = h;
        }
        qInfo("rho %.1f: %lld elements, %lld compensated off the grid, %lld clipped, %lld masked but on the grid, "
              "%lld undecidable ties",
              rho, (long long)elements, (long long)compensated, (long long)clipped, (long long)maskedOnGrid,
              (long long)undecided);
        QVERIFY(mixedGroups > 0);  // masks that are neither empty nor full
        QVERIFY(compensated > 0);  // the compensation changes something
        QVERIFY(clipped > 0);      // and so do the clipping bounds
        if (rho > 0.0)
            QVERIFY(maskedOnGrid > 0); // rho reached the hook: small masked elements stay quantized
        else
            QCOMPARE(maskedOnGrid, int64_t(0));
        QVERIFY(undecided * 1000 < elements); // ties are rare: the element check above is meaningful

        // Each Linear consumes its group's X_hat, through the quantized weight:
        // |y - X_hat W^T - b| <= gamma * (|X_hat| |W|^T + |b|), gamma = 2 (K + 4) 2^-24, twice the
        // float32 dot product's error bound (Higham) with room for X_hat's own float32 rounding.
        // dabcLinear (dense Q(X) W^T plus the masked channels' residuals) is held to twice that.
        for (int m = 0; m < kModules; ++m) {
            const int g = model.groupOfModule(m);
            const std::string& name = model.groups()[size_t(g)];
            const GroupPlan& p = s.plans.at(name);
            QVERIFY(at::equal(rec.consumed.at(m), rec.returned.at(g)));
            const at::Tensor w = q.model.linearWeight(m);
            QVERIFY(!at::equal(w, model.linearWeight(m))); // the weights are the quantized ones
            const at::Tensor& b = q.model.linearBias(m);
            const int64_t k = w.size(1);
            const at::Tensor wd = w.to(at::kDouble);
            at::Tensor yHand = hand.at(g).matmul(wd.t());
            at::Tensor bound = hand.at(g).abs().matmul(wd.abs().t());
            if (b.defined()) {
                yHand = yHand + b.to(at::kDouble);
                bound = bound + b.to(at::kDouble).abs();
            }
            const at::Tensor tol = bound * (2.0 * double(k + 4) * std::ldexp(1.0, -24)) + 1e-30;
            const at::Tensor y = rec.outputs.at(m).to(at::kDouble);
            const double worst = ((y - yHand).abs() / tol).max().item<double>();
            QVERIFY2(worst <= 1.0, qPrintable(QStringLiteral("%1: error %2 x the bound")
                                                  .arg(QString::fromStdString(model.modules()[size_t(m)].name)).arg(worst)));
            const at::Tensor alpha = at::tensor(p.alpha, at::TensorOptions().dtype(at::kFloat));
            const at::Tensor mask =
                at::tensor(std::vector<float>(p.mask.begin(), p.mask.end()), at::TensorOptions().dtype(at::kFloat));
            const at::Tensor xf = rec.given.at(g);
            const at::Tensor yd = dabcLinear(xf, fakeQuantPerChannel(xf, alpha, 4), w, b, mask, alpha, rho).to(at::kDouble);
            const double worstD = ((yd - yHand).abs() / (2.0 * tol)).max().item<double>();
            QVERIFY2(worstD <= 1.0, qPrintable(QStringLiteral("%1: dabcLinear off by %2 x the bound")
                                                   .arg(QString::fromStdString(model.modules()[size_t(m)].name)).arg(worstD)));
        }
    }

    // MDQFO plans groups in network order, each on inputs captured through the groups already
    // quantized before it (DESIGN.md: "each seeing the quantized outputs of the layers before
    // it"). Observable on the session: the curves are appended in planning order, and alpha0 of
    // group g is max |X_c| over every captured row of g's input. Recomputed here with whole
    // forwards over the calibration subset (same batches): a forward through the quantized model
    // hands group g the input computed through groups < g quantized with their final bounds, so
    // its maximum must be alpha0; with nothing, only the weights, only the activations, or the
    // initial bounds (alpha0) quantized upstream, it must differ for every g > 0.
    void captureSeesQuantizedEarlierLayers()
    {
        ensureW4();
        QCOMPARE(int(m_w4.curves.size()), kGroups);
        for (int g = 0; g < kGroups; ++g)
            QCOMPARE(m_w4.curves[size_t(g)].group, m_w4.groups[size_t(g)]);

        const DecoderModel model = DecoderModel::load(stories());
        QVERIFY(model.groups() == m_w4.groups);
        const TokenDataset calib = loadTokenDataset(m_calib);
        QCOMPARE(int(calib.sequences.size()), kCalibSeqs);
        auto capture = [&](const DecoderModel& m, ForwardHook* inner) {
            AmaxHook h(inner);
            for (int b0 = 0; b0 < kCalibSeqs; b0 += kCalibBatch) {
                std::vector<size_t> idx;
                for (int i = b0; i < b0 + kCalibBatch; ++i)
                    idx.push_back(size_t(i));
                m.forward(batchTensor(calib, idx), &h);
            }
            return h.amax;
        };
        const QuantizedModel q = makeQuantizedModel(model, m_w4);
        Session initial = m_w4;
        for (auto& [g, p] : initial.plans)
            p.alpha = p.alpha0;
        const QuantizedModel q0 = makeQuantizedModel(model, initial);
        const auto planned = capture(q.model, q.hook.get());
        const auto fp = capture(model, nullptr);
        const auto weightsOnly = capture(q.model, nullptr);
        const auto actsOnly = capture(model, q.hook.get());
        const auto initialBounds = capture(q0.model, q0.hook.get());

        // The engine captures layer by layer (streaming.h), these are whole forwards: the same
        // operations on the same batches (measured: equal to the bit), but allow 1e-5 relative
        // for float32 summation order. The alternatives differ by 4-bit quantization noise
        // upstream, percents.
        const double same = 1e-5;
        int firstTuned = -1; // the first group whose MDQFO bounds differ from alpha0
        for (int g = 0; g < kGroups; ++g) {
            const std::string& name = model.groups()[size_t(g)];
            const GroupPlan& p = m_w4.plans.at(name);
            const double dPlan = maxRelDiff(planned.at(g), p.alpha0), dFp = maxRelDiff(fp.at(g), p.alpha0),
                         dW = maxRelDiff(weightsOnly.at(g), p.alpha0), dA = maxRelDiff(actsOnly.at(g), p.alpha0),
                         dInit = maxRelDiff(initialBounds.at(g), p.alpha0);
            const QString figures = QStringLiteral("%1: largest relative difference to alpha0 with the plan %2, nothing "
                                                   "%3, weights only %4, activations only %5, initial bounds %6")
                                        .arg(QString::fromStdString(name)).arg(dPlan).arg(dFp).arg(dW).arg(dA).arg(dInit);
            QVERIFY2(dPlan <= same, qPrintable(figures));
            if (g == 0) {
                // Nothing is quantized upstream of the first Linear input (embedding, RMSNorm).
                QVERIFY2(dFp <= same && dW <= same && dA <= same && dInit <= same, qPrintable(figures));
            } else {
                // (measured: 7e-2 at least)
                QVERIFY2(dFp > 100 * same && dW > 100 * same && dA > 100 * same, qPrintable(figures));
                if (firstTuned >= 0 && g > firstTuned)
                    QVERIFY2(dInit > 100 * same, qPrintable(figures));
            }
            if (firstTuned < 0 && p.alpha != p.alpha0)
                firstTuned = g;
        }
        QVERIFY(firstTuned >= 0 && firstTuned < kGroups - 1);
    }

    // Perplexity over sequences of mixed lengths (1, 2, 3, 17, 64, 256 tokens, equal lengths
    // side by side so that batches of 1 and of 2 form): the engine's figures against a hand sum
    // of -log softmax(logits)[next token] over each sequence run alone (batch 1), for the full-
    // precision and the quantized model; against the engine at batch size 1; and one-token
    // sequences predict nothing (a file of them only is refused, naming the file).
    void perplexityOverMixedLengths()
    {
        ensureW4();
        const TokenDataset evalSet = loadTokenDataset(stories() + "/evaluation.jsonl");
        const std::vector<size_t> lengths = {3, 17, 17, 1, 64, 64, 2, 1, 1, 17, 3, 256};
        std::vector<std::vector<int64_t>> seqs, withoutSingles;
        int64_t predicted = 0;
        for (size_t i = 0; i < lengths.size(); ++i) {
            const std::vector<int64_t>& from = evalSet.sequences.at(i);
            seqs.emplace_back(from.begin(), from.begin() + int64_t(lengths[i]));
            predicted += int64_t(lengths[i]) - 1;
            if (lengths[i] > 1)
                withoutSingles.push_back(seqs.back());
        }
        QCOMPARE(predicted, int64_t(2 + 16 + 16 + 0 + 63 + 63 + 1 + 0 + 0 + 16 + 2 + 255));
        const std::string mixed = m_tmp.filePath("mixed.jsonl").toStdString();
        const std::string noSingles = m_tmp.filePath("mixed-no-singles.jsonl").toStdString();
        const std::string singles = m_tmp.filePath("singles.jsonl").toStdString();
        writeTokens(mixed, seqs);
        writeTokens(noSingles, withoutSingles);
        writeTokens(singles, {{5}, {7}, {9}});

        const DecoderModel model = DecoderModel::load(stories());
        const QuantizedModel q = makeQuantizedModel(model, m_w4);
        double fpSum = 0.0, qSum = 0.0;
        for (const std::vector<int64_t>& seq : withoutSingles) {
            fpSum += handNllSum(model, nullptr, seq);
            qSum += handNllSum(q.model, q.hook.get(), seq);
        }

        Session s = m_w4;
        m_engine.evaluate(s, mixed, true, 4);
        QCOMPARE(int(s.evals.size()), 2);
        const EvalResult &fp = s.evals[0], &qr = s.evals[1];
        QCOMPARE(fp.label, std::string("full precision"));
        QCOMPARE(qr.label, m_w4.settings->label());
        QCOMPARE(fp.tokens, predicted);
        QCOMPARE(qr.tokens, predicted);
        // Float32 logits computed in other batch shapes and (engine) lm_head chunks differ by
        // float32 rounding, ~1e-7 relative, so the NLL per token by ~1e-7 nats at most (measured
        // on the mean: ~2e-9); 1e-6 nats leaves 10x. A token counted twice or dropped, or a
        // sequence attending across a batch neighbour, moves the mean by ~1e-2.
        const double nllTol = 1e-6;
        QVERIFY2(std::fabs(fp.nll - fpSum / double(predicted)) < nllTol,
                 qPrintable(QStringLiteral("engine %1, hand %2").arg(fp.nll, 0, 'g', 10).arg(fpSum / double(predicted), 0, 'g', 10)));
        QVERIFY2(std::fabs(qr.nll - qSum / double(predicted)) < nllTol,
                 qPrintable(QStringLiteral("engine %1, hand %2").arg(qr.nll, 0, 'g', 10).arg(qSum / double(predicted), 0, 'g', 10)));
        QVERIFY(qr.nll > fp.nll); // W4A4 costs something on these tokens
        QVERIFY(qr.kl > 0.0);

        // Batch size 1: each sequence alone in the engine too.
        Session s1 = m_w4;
        m_engine.evaluate(s1, mixed, true, 1);
        QCOMPARE(int(s1.evals.size()), 2);
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(s1.evals[size_t(i)].tokens, predicted);
            QVERIFY(std::fabs(s1.evals[size_t(i)].nll - s.evals[size_t(i)].nll) < nllTol);
        }
        // The one-token sequences contribute nothing: the file without them, the same figures.
        Session s2 = m_w4;
        m_engine.evaluate(s2, noSingles, true, 4);
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(s2.evals[size_t(i)].tokens, predicted);
            QVERIFY(std::fabs(s2.evals[size_t(i)].nll - s.evals[size_t(i)].nll) < nllTol);
        }
        // Only one-token sequences: nothing to predict, refused with the file named, the session
        // untouched.
        Session s3 = s;
        const auto err = inputErrorOf([&] { m_engine.evaluate(s3, singles, true, 4); });
        QVERIFY(err.has_value());
        QVERIFY2(contains(*err, singles) && contains(*err, "two or more tokens"), err->c_str());
        QCOMPARE(sessionDiff(s3, s), std::string());
    }

    // An export whose config.json quantization_config is malformed or another tool's: reloading
    // it (loadModelForEval, what eval --model uses) is refused with the file named and what was
    // expected, never a JSON library error naming nothing; tensors of the plan that are missing,
    // of the wrong size or hold impossible values are refused with the tensor named.
    void exportReloadErrors()
    {
        ensureW4();
        const std::string base = m_tmp.filePath("reload-base").toStdString();
        m_engine.exportModel(m_w4, base, false);
        {
            // As written it loads with the plan's settings and, group by group, its bounds and masks.
            const LoadedModel lm = loadModelForEval(base);
            QVERIFY(lm.settings.has_value());
            QCOMPARE(settingsToJson(*lm.settings), settingsToJson(*m_w4.settings));
            QCOMPARE(int(lm.groups.size()), kGroups);
            for (int g = 0; g < kGroups; ++g) {
                const GroupPlan& p = m_w4.plans.at(lm.model.groups()[size_t(g)]);
                const at::Tensor a = lm.groups[size_t(g)].alpha.contiguous();
                const at::Tensor m = lm.groups[size_t(g)].mask.contiguous();
                QVERIFY(std::vector<float>(a.data_ptr<float>(), a.data_ptr<float>() + a.numel()) == p.alpha);
                QVERIFY(std::vector<float>(m.data_ptr<float>(), m.data_ptr<float>() + m.numel())
                        == std::vector<float>(p.mask.begin(), p.mask.end()));
            }
        }
        int n = 0;
        auto variant = [&](const std::string& from) {
            const std::string dir = m_tmp.filePath(QStringLiteral("reload-%1").arg(n++)).toStdString();
            copyFolder(from, dir);
            return dir;
        };
        auto withConfig = [&](const std::function<void(nlohmann::json&)>& fn, const std::string& from) {
            const std::string dir = variant(from);
            nlohmann::json cfg = nlohmann::json::parse(readTextFile(dir + "/config.json"));
            fn(cfg);
            writeFileAtomic(dir + "/config.json", cfg.dump(2));
            return dir;
        };
        struct Case {
            const char* what;
            std::function<void(nlohmann::json&)> edit;
            std::vector<std::string> expect; // in the message besides <dir>/config.json
        };
        const std::vector<Case> cases = {
            {"quantization_config a string", [](nlohmann::json& c) { c["quantization_config"] = "morphoquant-sim"; },
             {"quantization_config", "object"}},
            {"quantization_config null", [](nlohmann::json& c) { c["quantization_config"] = nullptr; },
             {"quantization_config", "object"}},
            {"quant_method a number", [](nlohmann::json& c) { c["quantization_config"]["quant_method"] = 1; },
             {"quant_method", "morphoquant-sim"}},
            {"quant_method missing", [](nlohmann::json& c) { c["quantization_config"].erase("quant_method"); },
             {"quant_method", "morphoquant-sim"}},
            {"format_version a string", [](nlohmann::json& c) { c["quantization_config"]["format_version"] = "1"; },
             {"format_version"}},
            {"format_version newer", [](nlohmann::json& c) { c["quantization_config"]["format_version"] = 2; },
             {"version 2", "newer"}},
            {"settings missing", [](nlohmann::json& c) { c["quantization_config"].erase("settings"); },
             {"no settings"}},
            {"settings a string", [](nlohmann::json& c) { c["quantization_config"]["settings"] = "W4A4"; },
             {"settings", "object"}},
            {"settings.abits a string", [](nlohmann::json& c) { c["quantization_config"]["settings"]["abits"] = "4"; },
             {"abits"}},
            {"settings with an unknown key", [](nlohmann::json& c) { c["quantization_config"]["settings"]["bogus"] = 1; },
             {"bogus"}},
            {"AutoAWQ's config",
             [](nlohmann::json& c) {
                 c["quantization_config"] = {{"quant_method", "awq"}, {"bits", 4}, {"group_size", 128},
                                             {"zero_point", true}, {"version", "gemm"}};
             },
             {"'awq'", "morphoquant-sim"}},
            {"GPTQ's config",
             [](nlohmann::json& c) {
                 c["quantization_config"] = {{"quant_method", "gptq"}, {"bits", 4}, {"group_size", 128},
                                             {"desc_act", false}, {"sym", true}};
             },
             {"'gptq'", "morphoquant-sim"}},
            {"bitsandbytes' config",
             [](nlohmann::json& c) {
                 c["quantization_config"] = {{"quant_method", "bitsandbytes"}, {"load_in_4bit", true},
                                             {"bnb_4bit_quant_type", "nf4"}};
             },
             {"'bitsandbytes'", "morphoquant-sim"}},
        };
        // Every case is tried and every failing one reported at once.
        QStringList failures;
        auto tryCases = [&](const std::vector<Case>& list, const std::string& folder) {
            for (const Case& c : list) {
                const std::string dir = withConfig(c.edit, folder);
                const std::string err = reloadError(dir);
                bool ok = contains(err, dir + "/config.json") && !contains(err, "NOT AN InputError");
                for (const std::string& e : c.expect)
                    ok = ok && contains(err, e);
                if (!ok)
                    failures << QStringLiteral("%1: \"%2\"").arg(c.what, QString::fromStdString(err));
            }
        };
        tryCases(cases, base);

        // Another tool's compressed-tensors config over this folder (W4A16 pack-quantized, as
        // llm-compressor writes it): the folder holds no packed weights, so it is not what the
        // config describes; reading its float32 weights as the packed model would drop the
        // plan's activation quantization without a word.
        {
            const std::string dir = withConfig([](nlohmann::json& c) {
                c["quantization_config"] = nlohmann::json::parse(R"({
                    "quant_method": "compressed-tensors", "format": "pack-quantized",
                    "quantization_status": "compressed", "ignore": ["lm_head"],
                    "config_groups": {"group_0": {"targets": ["Linear"], "input_activations": null,
                        "weights": {"num_bits": 4, "type": "int", "symmetric": true, "strategy": "channel",
                                    "dynamic": false}}}})");
            }, base);
            const std::string err = reloadError(dir);
            if (!(!contains(err, "NOT AN InputError") && contains(err, dir) && contains(err, "weight_packed")))
                failures << QStringLiteral("compressed-tensors config over float32 weights: \"%1\"")
                                .arg(QString::fromStdString(err));
        }

        // The plan's tensors: one missing, one of the wrong size, bounds that are not positive
        // finite numbers, mask entries other than 0 and 1.
        const std::string g0 = "morphoquant." + m_w4.groups[3] + ".";
        auto withTensors = [&](const std::function<void(std::map<std::string, at::Tensor>&)>& fn,
                               const std::string& from) {
            const std::string dir = variant(from);
            std::map<std::string, at::Tensor> t;
            {
                Checkpoint ck(from);
                for (const std::string& name : ck.tensorNames())
                    t[name] = ck.load(name).clone();
            }
            fn(t);
            writeSafetensors(dir + "/model.safetensors", t);
            return dir;
        };
        struct TensorCase {
            const char* what;
            std::function<void(std::map<std::string, at::Tensor>&)> edit;
            std::string tensor;
            std::string expect;
        };
        const std::vector<TensorCase> tensorCases = {
            {"act_alpha missing", [&](auto& t) { t.erase(g0 + "act_alpha"); }, g0 + "act_alpha", "missing"},
            {"dabc_mask missing", [&](auto& t) { t.erase(g0 + "dabc_mask"); }, g0 + "dabc_mask", "missing"},
            {"act_alpha too short", [&](auto& t) { t[g0 + "act_alpha"] = t[g0 + "act_alpha"].narrow(0, 0, 10).clone(); },
             g0 + "act_alpha", "expected"},
            {"act_alpha with a zero", [&](auto& t) { t[g0 + "act_alpha"][5] = 0.0f; }, g0 + "act_alpha", "positive"},
            {"act_alpha with a negative", [&](auto& t) { t[g0 + "act_alpha"][5] = -1.0f; }, g0 + "act_alpha", "positive"},
            {"act_alpha with a NaN", [&](auto& t) { t[g0 + "act_alpha"][5] = std::nanf(""); }, g0 + "act_alpha", "positive"},
            {"dabc_mask with a 2", [&](auto& t) { t[g0 + "dabc_mask"][5] = 2; }, g0 + "dabc_mask", "0 or 1"},
        };
        for (const TensorCase& c : tensorCases) {
            const std::string dir = withTensors(c.edit, base);
            const std::string err = reloadError(dir);
            if (!(contains(err, dir) && contains(err, c.tensor) && contains(err, c.expect)
                  && !contains(err, "NOT AN InputError")))
                failures << QStringLiteral("%1: \"%2\"").arg(c.what, QString::fromStdString(err));
        }

        // The packed morphoquant format (packed weights; the bounds and masks as
        // <Linear>.input_alpha / .input_dabc_mask): as written it loads with the plan's bounds;
        // broken, it is refused the same way.
        const std::string packed = m_tmp.filePath("reload-packed").toStdString();
        m_engine.exportModel(m_w4, packed, false, {}, nullptr, ExportFormat::Morphoquant);
        {
            const LoadedModel lm = loadModelForEval(packed);
            QVERIFY(lm.settings.has_value() && lm.settings->act == ActScheme::PerChannelStatic);
            QCOMPARE(int(lm.groups.size()), kGroups);
            for (int g = 0; g < kGroups; ++g) {
                const at::Tensor a = lm.groups[size_t(g)].alpha.contiguous();
                QVERIFY(std::vector<float>(a.data_ptr<float>(), a.data_ptr<float>() + a.numel())
                        == m_w4.plans.at(lm.model.groups()[size_t(g)]).alpha);
            }
        }
        const std::vector<Case> packedCases = {
            {"packed: format_version a string", [](nlohmann::json& c) { c["quantization_config"]["format_version"] = "1"; },
             {"format_version"}},
            {"packed: weights a string", [](nlohmann::json& c) { c["quantization_config"]["weights"] = "int4"; },
             {"weights"}},
            {"packed: weights.num_bits a string",
             [](nlohmann::json& c) { c["quantization_config"]["weights"]["num_bits"] = "4"; }, {"quantization_config"}},
            {"packed: settings.abits a string",
             [](nlohmann::json& c) { c["quantization_config"]["settings"]["abits"] = "4"; }, {"abits"}},
        };
        tryCases(packedCases, packed);
        const std::string p3 = m_w4.groupMembers(m_w4.groups[3]).front()->name + ".";
        const std::vector<TensorCase> packedTensorCases = {
            {"packed: input_alpha with a zero", [&](auto& t) { t[p3 + "input_alpha"][5] = 0.0f; }, p3 + "input_alpha",
             "positive"},
            {"packed: input_dabc_mask with a 2", [&](auto& t) { t[p3 + "input_dabc_mask"][5] = 2; },
             p3 + "input_dabc_mask", "0 or 1"},
        };
        for (const TensorCase& c : packedTensorCases) {
            const std::string dir = withTensors(c.edit, packed);
            const std::string err = reloadError(dir);
            if (!(contains(err, dir) && contains(err, c.tensor) && contains(err, c.expect)
                  && !contains(err, "NOT AN InputError")))
                failures << QStringLiteral("%1: \"%2\"").arg(c.what, QString::fromStdString(err));
        }
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QStringLiteral("\n"))));
    }

    // One engine and one session across two models: A (stories260K) quantized, then B (a bf16
    // synthetic Qwen2 layer, other widths and vocabulary) opened in the same session, then A again.
    // Opening B drops everything A's session held (statistics, plan, curves, evaluations, errors,
    // calibration), the engine serves neither A's preview cache to B nor B's to A, B quantizes on
    // its own shapes, a kept copy of A's session evaluates to the same figure after B, and A
    // quantized again in the session gives A's plan bit for bit (nothing of B leaked into it).
    void switchingModelsKeepsNoStaleState()
    {
        ensureW4();
        Engine engine;
        const std::string a = stories();
        SyntheticSpec spec;
        spec.shape = "test-wide";
        spec.layers = 1;
        spec.calibSequences = 4;
        spec.evalSequences = 4;
        spec.sequenceLength = 64;
        const std::string b = m_tmp.filePath("model-b").toStdString();
        writeSynthetic(b, spec, false);
        const CalibrationSourceSpec calibA{m_calib, "tokens", kCalibBatch, ""};
        const CalibrationSourceSpec calibB{b + "/calibration.jsonl", "tokens", 4, ""};

        Session s;
        engine.openModel(s, a);
        engine.calibrate(s, calibA);
        engine.quantize(s, morphoquant(4, 4));
        QCOMPARE(sessionDiff(s, m_w4), std::string()); // another engine, the same plan
        engine.evaluate(s, m_eval, true, 4);
        const Session sA = s;
        QVERIFY(engine.hasPreviewCache(sA));

        // B in the same session: nothing of A is left.
        engine.openModel(s, b);
        QCOMPARE(s.model.path, b);
        QVERIFY(s.model.fingerprint != sA.model.fingerprint);
        QCOMPARE(s.model.architecture, std::string("qwen2"));
        QVERIFY(s.stats.empty() && s.plans.empty() && s.curves.empty() && s.evals.empty() && s.errors.empty()
                && s.weights.empty() && !s.settings);
        QVERIFY(s.calibration.source.empty() && s.calibration.totalTokens() == 0);
        QCOMPARE(int(s.modules.size()), 7);
        QCOMPARE(int(s.groups.size()), 4);
        for (const ModuleInfo& m : s.modules)
            QCOMPARE(m.inFeatures, m.kind == "down_proj" ? int64_t(1024) : int64_t(256));
        QVERIFY(!engine.hasPreviewCache(s));
        // B has no statistics yet: quantize says so, and leaves the session alone.
        Session before = s;
        try {
            engine.quantize(s, morphoquant(4, 4));
            QFAIL("quantize before calibrating B should throw");
        } catch (const Error& e) {
            QVERIFY2(contains(e.what(), "calibrate first"), e.what());
        }
        QCOMPARE(sessionDiff(s, before), std::string());
        engine.calibrate(s, calibB);
        QCOMPARE(s.calibration.source, calibB.path);
        QCOMPARE(s.calibration.tokens[size_t(Modality::Text)], int64_t(4 * 64));
        for (const std::string& g : s.groups)
            QCOMPARE(s.stats.at(g).pooled.channels, channelsOf(s, g));
        engine.quantize(s, morphoquant(4, 4));
        QCOMPARE(int(s.plans.size()), 4);
        for (const std::string& g : s.groups) {
            QCOMPARE(int64_t(s.plans.at(g).alpha.size()), channelsOf(s, g));
            QCOMPARE(int64_t(s.plans.at(g).mask.size()), channelsOf(s, g));
        }
        QCOMPARE(int(s.errors.size()), 7);
        engine.evaluate(s, b + "/evaluation.jsonl", true, 4);
        QCOMPARE(int(s.evals.size()), 2);
        QVERIFY(std::isfinite(s.evals[1].nll));
        QCOMPARE(s.evals[1].tokens, int64_t(4 * 63));
        // The preview cache is now B's: it serves B's plan and refuses A's.
        const Session sB = s;
        QVERIFY(engine.hasPreviewCache(sB));
        QVERIFY(!engine.hasPreviewCache(sA));
        QVERIFY_EXCEPTION_THROWN(engine.replanGroups(sA, {sA.groups.front()}, *sA.settings), Error);
        QCOMPARE(int(engine.replanGroups(s, s.groups, *s.settings).size()), 4);

        // A's kept session, evaluated again while B is loaded: the engine loads A back, and the
        // figures are those A had (same computation, same thread count: equal to 1e-12).
        Session again = sA;
        engine.evaluate(again, m_eval, true, 4);
        QCOMPARE(int(again.evals.size()), 2);
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(again.evals[size_t(i)].tokens, sA.evals[size_t(i)].tokens);
            QVERIFY(relClose(again.evals[size_t(i)].nll, sA.evals[size_t(i)].nll, 1e-12));
        }

        // Back to A in the session that held B: B's state goes, A is calibrated and quantized
        // anew and the plan is A's own.
        engine.openModel(s, a);
        QVERIFY(s.stats.empty() && s.plans.empty() && s.evals.empty() && s.errors.empty() && !s.settings);
        QCOMPARE(int(s.modules.size()), kModules);
        QVERIFY(s.groups == sA.groups);
        QVERIFY_EXCEPTION_THROWN(engine.quantize(s, morphoquant(4, 4)), Error);
        engine.calibrate(s, calibA);
        engine.quantize(s, morphoquant(4, 4));
        Session cmp = sA;
        cmp.evals.clear();
        QCOMPARE(sessionDiff(s, cmp), std::string());
        QVERIFY(engine.hasPreviewCache(sA)); // A's run again: the cache serves A's plan, not B's
        QVERIFY(!engine.hasPreviewCache(sB));
    }
};

QTEST_APPLESS_MAIN(TestEngine)
#include "tst_engine.moc"
