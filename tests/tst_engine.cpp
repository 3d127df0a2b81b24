// mq::core::Engine end to end on the really trained stories260K: open, calibrate, quantize
// (plan + layer errors + preview cache), cancellation that leaves the session as it was, the
// live MDQFO preview (replanGroups), layer errors, evaluation and export.
// To keep the suite short, calibration uses the first kCalibSeqs sequences of the model's
// calibration set (a full quantize takes ~30-40 s on a CI machine; this one a few seconds).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "test_util.h"

#include "engine.h"
#include "io/session_store.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
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

} // namespace

class TestEngine : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::string m_calib, m_eval;
    Engine m_engine;
    Session m_opened;     // openModel only
    Session m_calibrated; // + calibrate (subset, batch kCalibBatch)
    Session m_w4;         // + quantize morphoquant W4A4

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
};

QTEST_APPLESS_MAIN(TestEngine)
#include "tst_engine.moc"
