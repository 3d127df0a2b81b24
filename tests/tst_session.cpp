// The HDF5 session store: exact round trip of every field, atomic saves that never damage an
// existing file, and actionable errors for files that are not sessions.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <H5Cpp.h>

#include <fstream>
#include <functional>
#include <random>
#include <limits>

#include "common/error.h"
#include "io/session_store.h"

using namespace mq::core;

namespace {

// Deterministic pseudo-random values (an LCG) so failures reproduce.
class Lcg {
public:
    explicit Lcg(uint32_t seed) : m_state(seed) {}
    uint32_t next()
    {
        m_state = m_state * 1664525u + 1013904223u;
        return m_state;
    }
    // In [-scale, scale), with awkward mantissas so bit-exactness is really tested.
    double uniform(double scale) { return (double(next()) / 4294967296.0 * 2.0 - 1.0) * scale; }

private:
    uint32_t m_state;
};

ChannelStats makeStats(int64_t k, int64_t count, uint32_t seed)
{
    Lcg rng(seed);
    ChannelStats s;
    s.channels = k;
    s.count = count;
    for (int64_t c = 0; c < k; ++c) {
        const float a = float(rng.uniform(3.0)), b = float(rng.uniform(3.0));
        s.min.push_back(std::min(a, b));
        s.max.push_back(std::max(a, b));
        s.sumAbs.push_back(std::fabs(rng.uniform(1000.0)));
        s.sumSq.push_back(std::fabs(rng.uniform(5000.0)));
        for (int b2 = 0; b2 < kHistBins; ++b2)
            s.hist.push_back(rng.next() % 97);
    }
    return s;
}

QuantSettings nonDefaultSettings()
{
    QuantSettings q;
    q.method = "morphoquant";
    q.mode = "deployable";
    q.weight.format = WeightFormat::Int;
    q.weight.bits = 3;
    q.weight.groupSize = 128;
    q.weight.symmetric = false;
    q.weight.nf4Block = 32;
    q.abits = 4;
    q.act = ActScheme::PerChannelStatic;
    q.dabc.enabled = false;
    q.dabc.k = 2.7182818284590451;
    q.dabc.useLocal = false;
    q.dabc.useGlobal = false;
    q.dabc.form = DispersionForm::Paper;
    q.dabc.anyModality = true;
    q.dabc.rho = 0.1;
    q.dabc.forceKinds = {"down_proj", "o_proj"};
    q.mdqfo.enabled = false;
    q.mdqfo.solver = MdqfoSolver::Adam;
    q.mdqfo.p = 0.5;
    q.mdqfo.lambdaCos = 1.0 / 3.0;
    q.mdqfo.ratios = 21;
    q.mdqfo.rMin = 0.55;
    q.mdqfo.rMax = 0.95;
    q.mdqfo.emaDecay = 0.99;
    q.mdqfo.batchTokens = 1024;
    q.mdqfo.adamSteps = 250;
    q.mdqfo.adamLr = 3e-3;
    return q;
}

// K = 500 makes hist 20000 values, above the threshold where the store compresses.
constexpr int64_t kAttnK = 500;
constexpr int64_t kMlpK = 24;

Session makeSession()
{
    Session s;
    s.model = {"/models/tiny", "sha256:0123abcd", "llama", "{\"hidden_size\": 500, \"name\": \"t\u00e9st\"}"};
    s.calibration.source = "/data/calib.mqt";
    s.calibration.kind = "manifest"; // not the defaults, so a reader that ignores them shows
    s.calibration.batchSize = 3;
    s.calibration.sequences = 17;
    s.calibration.tokens = {1000, 2000, 0, 300};
    s.groups = {"model.layers.0.attn_in", "model.layers.0.mlp_down_in"};
    s.modules = {{"model.layers.0.self_attn.q_proj", 0, "q_proj", s.groups[0], kAttnK, kAttnK},
                 {"model.layers.0.self_attn.k_proj", 0, "k_proj", s.groups[0], kAttnK, 64},
                 {"model.layers.0.mlp.down_proj", 0, "down_proj", s.groups[1], kMlpK, kAttnK}};

    InputStats attn;
    attn.perModality[int(Modality::Text)] = makeStats(kAttnK, 1000, 1);
    attn.perModality[int(Modality::Audio)] = makeStats(kAttnK, 300, 2);
    attn.pooled = makeStats(kAttnK, 1300, 3);
    s.stats[s.groups[0]] = attn;
    InputStats mlp;
    mlp.perModality[int(Modality::Text)] = makeStats(kMlpK, 1000, 4);
    mlp.pooled = makeStats(kMlpK, 1000, 5);
    s.stats[s.groups[1]] = mlp;

    s.settings = nonDefaultSettings();
    Lcg rng(7);
    GroupPlan a;
    for (int64_t c = 0; c < kAttnK; ++c) {
        a.scores.push_back(std::fabs(rng.uniform(10.0)));
        a.mask.push_back(a.scores.back() > 8.0 ? 1 : 0);
        a.handEdited.push_back(c == 3 ? 1 : 0);
        a.alpha0.push_back(float(std::fabs(rng.uniform(4.0))));
        a.alpha.push_back(a.alpha0.back() * 0.8125f);
    }
    a.tauLocal = 8.123456789;
    a.tauGlobal = 7.000000001;
    s.plans[s.groups[0]] = a;
    GroupPlan b; // DABC only: no hand edits, no MDQFO yet; empty arrays must survive
    for (int64_t c = 0; c < kMlpK; ++c) {
        b.scores.push_back(rng.uniform(1.0));
        b.mask.push_back(uint8_t(c % 2));
    }
    b.tauLocal = -0.5;
    b.tauGlobal = 1e-300;
    s.plans[s.groups[1]] = b;

    // Curves deliberately not in name order: the store must keep the vector's order.
    LossCurve c1{s.groups[1], {}};
    for (int step = 0; step < 5; ++step)
        c1.points.push_back({step, rng.uniform(1.0), rng.uniform(0.1), rng.uniform(2.0)});
    LossCurve c0{s.groups[0], {{0, 0.25, 0.125, 0.375}, {10, 0.2, 0.1, 0.3}}};
    s.curves = {c1, c0, LossCurve{"model.layers.1.attn_in", {}}};

    s.evals = {{"fp", "/data/wiki.mqt", 2.3025850929940455, 10.000000000000002, 4096},
               {"morphoquant W4A4 (int3-asym-g128, per-channel-static, deployable)", "/data/wiki.mqt",
                2.5, 12.182493960703473, 4096}};
    s.evals[1].plan = "0123456789abcdef"; // measured under some plan (the digest is opaque here)
    s.resultsPlan = "fedcba9876543210";
    s.curvesPlan = "00000000000000ff";

    // Layer errors: awkward mantissas, both clamp values, a modality without tokens (all zero),
    // a token count above 2^32, and not in module-name order (the vector's order is kept).
    for (size_t i : {2u, 0u, 1u}) {
        ModuleError me;
        me.module = s.modules[i].name;
        me.perModality[size_t(Modality::Text)] = {int64_t(1000 + i), rng.uniform(60.0),
                                                  1.0 - std::fabs(rng.uniform(0.01))};
        me.perModality[size_t(Modality::Audio)] = {300, i == 0 ? 200.0 : -200.0, rng.uniform(1.0)};
        me.pooled = {(int64_t(1) << 40) + int64_t(i), rng.uniform(60.0), 0.9999999999999999};
        s.errors.push_back(me);
    }
    return s;
}

void compareStats(const ChannelStats& a, const ChannelStats& b)
{
    QCOMPARE(a.channels, b.channels);
    QCOMPARE(a.count, b.count);
    QVERIFY(a.min == b.min);
    QVERIFY(a.max == b.max);
    QVERIFY(a.sumAbs == b.sumAbs);
    QVERIFY(a.sumSq == b.sumSq);
    QVERIFY(a.hist == b.hist);
}

void compareSettings(const QuantSettings& a, const QuantSettings& b)
{
    QCOMPARE(a.method, b.method);
    QCOMPARE(a.mode, b.mode);
    QVERIFY(a.weight.format == b.weight.format);
    QCOMPARE(a.weight.bits, b.weight.bits);
    QCOMPARE(a.weight.groupSize, b.weight.groupSize);
    QCOMPARE(a.weight.symmetric, b.weight.symmetric);
    QCOMPARE(a.weight.nf4Block, b.weight.nf4Block);
    QCOMPARE(a.abits, b.abits);
    QVERIFY(a.act == b.act);
    QCOMPARE(a.dabc.enabled, b.dabc.enabled);
    QVERIFY(a.dabc.k == b.dabc.k); // exact: JSON keeps the shortest round-trip form
    QCOMPARE(a.dabc.useLocal, b.dabc.useLocal);
    QCOMPARE(a.dabc.useGlobal, b.dabc.useGlobal);
    QVERIFY(a.dabc.form == b.dabc.form);
    QCOMPARE(a.dabc.anyModality, b.dabc.anyModality);
    QVERIFY(a.dabc.rho == b.dabc.rho);
    QVERIFY(a.dabc.forceKinds == b.dabc.forceKinds);
    QCOMPARE(a.mdqfo.enabled, b.mdqfo.enabled);
    QVERIFY(a.mdqfo.solver == b.mdqfo.solver);
    QVERIFY(a.mdqfo.p == b.mdqfo.p);
    QVERIFY(a.mdqfo.lambdaCos == b.mdqfo.lambdaCos);
    QCOMPARE(a.mdqfo.ratios, b.mdqfo.ratios);
    QVERIFY(a.mdqfo.rMin == b.mdqfo.rMin);
    QVERIFY(a.mdqfo.rMax == b.mdqfo.rMax);
    QVERIFY(a.mdqfo.emaDecay == b.mdqfo.emaDecay);
    QCOMPARE(a.mdqfo.batchTokens, b.mdqfo.batchTokens);
    QCOMPARE(a.mdqfo.adamSteps, b.mdqfo.adamSteps);
    QVERIFY(a.mdqfo.adamLr == b.mdqfo.adamLr);
}

// Every float compared with ==: HDF5 stores IEEE values bit for bit, so no tolerance applies.
void compareSessions(const Session& a, const Session& b)
{
    QCOMPARE(a.model.path, b.model.path);
    QCOMPARE(a.model.fingerprint, b.model.fingerprint);
    QCOMPARE(a.model.architecture, b.model.architecture);
    QCOMPARE(a.model.configJson, b.model.configJson);
    QCOMPARE(a.calibration.source, b.calibration.source);
    QCOMPARE(a.calibration.kind, b.calibration.kind);
    QCOMPARE(a.calibration.batchSize, b.calibration.batchSize);
    QCOMPARE(a.calibration.sequences, b.calibration.sequences);
    QVERIFY(a.calibration.tokens == b.calibration.tokens);
    QCOMPARE(a.modules.size(), b.modules.size());
    for (size_t i = 0; i < a.modules.size(); ++i) {
        QCOMPARE(a.modules[i].name, b.modules[i].name);
        QCOMPARE(a.modules[i].layer, b.modules[i].layer);
        QCOMPARE(a.modules[i].kind, b.modules[i].kind);
        QCOMPARE(a.modules[i].inputGroup, b.modules[i].inputGroup);
        QCOMPARE(a.modules[i].inFeatures, b.modules[i].inFeatures);
        QCOMPARE(a.modules[i].outFeatures, b.modules[i].outFeatures);
    }
    QVERIFY(a.groups == b.groups);
    QCOMPARE(a.stats.size(), b.stats.size());
    for (const auto& [name, in] : a.stats) {
        QVERIFY2(b.stats.count(name), name.c_str());
        const InputStats& other = b.stats.at(name);
        for (int m = 0; m < kNumModalities; ++m)
            compareStats(in.perModality[m], other.perModality[m]);
        compareStats(in.pooled, other.pooled);
    }
    QCOMPARE(a.settings.has_value(), b.settings.has_value());
    if (a.settings)
        compareSettings(*a.settings, *b.settings);
    QCOMPARE(a.plans.size(), b.plans.size());
    for (const auto& [name, p] : a.plans) {
        QVERIFY2(b.plans.count(name), name.c_str());
        const GroupPlan& q = b.plans.at(name);
        QVERIFY(p.scores == q.scores);
        QVERIFY(p.mask == q.mask);
        QVERIFY(p.handEdited == q.handEdited);
        QVERIFY(p.tauLocal == q.tauLocal);
        QVERIFY(p.tauGlobal == q.tauGlobal);
        QVERIFY(p.alpha0 == q.alpha0);
        QVERIFY(p.alpha == q.alpha);
    }
    QCOMPARE(a.curves.size(), b.curves.size());
    for (size_t i = 0; i < a.curves.size(); ++i) {
        QCOMPARE(a.curves[i].group, b.curves[i].group);
        QCOMPARE(a.curves[i].points.size(), b.curves[i].points.size());
        for (size_t j = 0; j < a.curves[i].points.size(); ++j) {
            const LossPoint& p = a.curves[i].points[j];
            const LossPoint& q = b.curves[i].points[j];
            QCOMPARE(p.step, q.step);
            QVERIFY(p.lp == q.lp && p.lcos == q.lcos && p.total == q.total);
        }
    }
    QCOMPARE(a.evals.size(), b.evals.size());
    for (size_t i = 0; i < a.evals.size(); ++i) {
        QCOMPARE(a.evals[i].label, b.evals[i].label);
        QCOMPARE(a.evals[i].data, b.evals[i].data);
        QVERIFY(a.evals[i].nll == b.evals[i].nll);
        QVERIFY(a.evals[i].ppl == b.evals[i].ppl);
        QCOMPARE(a.evals[i].tokens, b.evals[i].tokens);
        QCOMPARE(a.evals[i].plan, b.evals[i].plan);
    }
    QCOMPARE(a.resultsPlan, b.resultsPlan);
    QCOMPARE(a.curvesPlan, b.curvesPlan);
    QCOMPARE(a.tuning.has_value(), b.tuning.has_value());
    if (a.tuning)
        compareSettings(*a.tuning, *b.tuning);
    QCOMPARE(a.errors.size(), b.errors.size());
    for (size_t i = 0; i < a.errors.size(); ++i) {
        QCOMPARE(a.errors[i].module, b.errors[i].module);
        for (int r = 0; r <= kNumModalities; ++r) {
            const ErrorStat& e = r < kNumModalities ? a.errors[i].perModality[size_t(r)] : a.errors[i].pooled;
            const ErrorStat& f = r < kNumModalities ? b.errors[i].perModality[size_t(r)] : b.errors[i].pooled;
            QCOMPARE(e.tokens, f.tokens);
            QVERIFY2(e.sqnrDb == f.sqnrDb && e.cosine == f.cosine, a.errors[i].module.c_str());
        }
    }
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestSession : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_sessionPath = m_dir.filePath("study.mqs").toStdString();
        saveSession(makeSession(), m_sessionPath);
    }

    void sessionHelpers()
    {
        const Session s = makeSession();
        QCOMPARE(s.calibration.totalTokens(), int64_t(3300));
        QVERIFY(s.findModule("model.layers.0.self_attn.k_proj") == &s.modules[1]);
        QVERIFY(s.findModule("nope") == nullptr);
        const auto members = s.groupMembers(s.groups[0]);
        QCOMPARE(members.size(), size_t(2));
        QVERIFY(members[0] == &s.modules[0] && members[1] == &s.modules[1]);
        QVERIFY(s.groupMembers("nope").empty());
    }

    void roundTrip()
    {
        const Session loaded = loadSession(m_sessionPath);
        compareSessions(makeSession(), loaded);
    }

    // The tuning panel's settings (not yet applied to the plan) travel beside the plan's.
    void roundTripTuning()
    {
        Session s = makeSession();
        QuantSettings t = *s.settings;
        t.mdqfo.p = 3.5;
        t.weight.bits = 3;
        t.dabc.k = 1.25;
        s.tuning = t;
        const std::string path = m_dir.filePath("tuning.mqs").toStdString();
        saveSession(s, path);
        const Session b = loadSession(path);
        compareSessions(s, b);
        QCOMPARE(b.tuning->mdqfo.p, 3.5);
        QVERIFY(b.settings->mdqfo.p != 3.5);
    }

    // The plan digest: the same plan gives the same 16 hex digits; any mask bit, bound, clip
    // ratio, smoothing factor or setting changes it; what the plan's results do not depend on
    // (scores, hand-edit marks, curves, evaluations) does not.
    void planFingerprintTracksThePlan()
    {
        const Session s = makeSession();
        const std::string f = planFingerprint(s);
        QCOMPARE(f.size(), size_t(16));
        QCOMPARE(planFingerprint(s), f);
        QCOMPARE(planFingerprint(Session()), std::string()); // no plan
        auto changed = [&](const std::function<void(Session&)>& edit) {
            Session t = s;
            edit(t);
            return planFingerprint(t) != f;
        };
        const std::string g = s.groups[0];
        QVERIFY(changed([&](Session& t) { t.plans[g].mask[0] ^= 1; }));
        QVERIFY(changed([&](Session& t) { t.plans[g].alpha[0] *= 0.5f; }));
        QVERIFY(changed([&](Session& t) { t.plans[g].tokenClip = 0.9; }));
        QVERIFY(changed([&](Session& t) { t.plans[g].smooth.assign(t.plans[g].mask.size(), 2.0f); }));
        QVERIFY(changed([&](Session& t) { t.settings->dabc.k += 0.5; }));
        QVERIFY(changed([&](Session& t) { t.settings->abits = 8; }));
        QVERIFY(!changed([&](Session& t) { t.plans[g].scores[0] += 1.0; }));
        QVERIFY(!changed([&](Session& t) { t.plans[g].handEdited[0] ^= 1; }));
        QVERIFY(!changed([&](Session& t) { t.curves.clear(); }));
        QVERIFY(!changed([&](Session& t) { t.evals.clear(); }));
        QVERIFY(!changed([&](Session& t) { t.tuning = *t.settings; }));
        // resultIsCurrent: "" (older sessions) always, a digest only while it matches.
        QVERIFY(resultIsCurrent(s, ""));
        QVERIFY(resultIsCurrent(s, f));
        QVERIFY(!resultIsCurrent(s, "0000000000000000"));
    }

    void roundTripEmpty()
    {
        // A fresh study: nothing computed yet, no settings.
        Session s;
        s.model.path = "/m";
        s.stats["g"] = InputStats{}; // all modalities empty: kept as a key, restored empty
        const std::string path = m_dir.filePath("empty.mqs").toStdString();
        saveSession(s, path);
        compareSessions(s, loadSession(path));
    }

    void roundTripErrorsAndCalibrationKind()
    {
        // makeSession's errors and calibration kind/batch size, checked on their own (the full
        // round trip above compares them too, with every other field).
        const Session want = makeSession();
        QVERIFY(!want.errors.empty());
        const Session got = loadSession(m_sessionPath);
        QCOMPARE(got.calibration.kind, std::string("manifest"));
        QCOMPARE(got.calibration.batchSize, 3);
        QCOMPARE(got.errors.size(), size_t(3));
        QCOMPARE(got.errors[0].module, want.modules[2].name); // vector order, not name order
        QCOMPARE(got.errors[0].pooled.tokens, (int64_t(1) << 40) + 2);
        QVERIFY(got.errors[0].pooled.cosine == 0.9999999999999999);
        QCOMPARE(got.errors[0].perModality[size_t(Modality::Audio)].sqnrDb, -200.0);
        QCOMPARE(got.errors[1].perModality[size_t(Modality::Audio)].sqnrDb, 200.0);
        const ErrorStat& none = got.errors[1].perModality[size_t(Modality::Image)];
        QVERIFY(none.tokens == 0 && none.sqnrDb == 0.0 && none.cosine == 0.0);
        for (size_t i = 0; i < want.errors.size(); ++i)
            QVERIFY(got.errors[i].perModality[size_t(Modality::Text)].sqnrDb
                    == want.errors[i].perModality[size_t(Modality::Text)].sqnrDb);
    }

    void oldFileWithoutErrorsOrKindLoads()
    {
        // A file as written before layer errors and calibration kind/batch size existed: same
        // format version, no /errors, no /calibration@kind or @batch_size. It loads with no
        // errors and the documented defaults ("tokens", 8); everything else as saved.
        const std::string path = m_dir.filePath("old.mqs").toStdString();
        saveSession(makeSession(), path);
        {
            H5::H5File f(path, H5F_ACC_RDWR);
            f.unlink("/errors");
            H5::Group calib = f.openGroup("/calibration");
            calib.removeAttr("kind");
            calib.removeAttr("batch_size");
        }
        resealSession(path); // changed on purpose
        const Session got = loadSession(path);
        QVERIFY(got.errors.empty());
        QCOMPARE(got.calibration.kind, std::string("tokens"));
        QCOMPARE(got.calibration.batchSize, 8);
        Session want = makeSession();
        want.errors.clear();
        want.calibration.kind = "tokens";
        want.calibration.batchSize = 8;
        compareSessions(want, got);
    }

    // A format-1 file (variable-length strings, as every session before format 2) still loads the
    // same; a variable-length string in a format-2 file is refused (that is where damaged files
    // crashed libhdf5's global heap reader).
    void formatOneVariableLengthStringsLoad()
    {
        const std::string path = m_dir.filePath("v1.mqs").toStdString();
        const Session orig = makeSession();
        saveSession(orig, path);
        {
            H5::H5File f(path, H5F_ACC_RDWR);
            H5::StrType vlen(H5::PredType::C_S1, H5T_VARIABLE);
            vlen.setCset(H5T_CSET_UTF8);
            // every fixed-length string attribute and dataset rewritten as variable-length
            std::function<void(H5::Group&)> visit = [&](H5::Group& g) {
                std::vector<std::string> attrs;
                for (int i = 0; i < g.getNumAttrs(); ++i)
                    attrs.push_back(g.openAttribute(unsigned(i)).getName());
                for (const std::string& a : attrs) {
                    H5::Attribute at = g.openAttribute(a);
                    if (at.getTypeClass() != H5T_STRING)
                        continue;
                    std::string v(at.getStrType().getSize(), '\0');
                    at.read(at.getStrType(), v.data());
                    v = v.c_str();
                    at.close();
                    g.removeAttr(a);
                    g.createAttribute(a, vlen, H5::DataSpace(H5S_SCALAR)).write(vlen, v);
                }
                for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
                    const std::string name = g.getObjnameByIdx(i);
                    if (g.childObjType(name) == H5O_TYPE_GROUP) {
                        H5::Group c = g.openGroup(name);
                        visit(c);
                    } else if (g.openDataSet(name).getTypeClass() == H5T_STRING) {
                        H5::DataSet ds = g.openDataSet(name);
                        const size_t w = ds.getStrType().getSize();
                        hsize_t n = hsize_t(ds.getSpace().getSimpleExtentNpoints());
                        std::string buf(w * n, '\0');
                        if (n)
                            ds.read(buf.data(), ds.getStrType());
                        std::vector<std::string> vals;
                        for (hsize_t k = 0; k < n; ++k)
                            vals.push_back(std::string(buf.data() + k * w, w).c_str());
                        std::vector<const char*> ptrs;
                        for (const std::string& s : vals)
                            ptrs.push_back(s.c_str());
                        ds.close();
                        g.unlink(name);
                        H5::DataSet nd = g.createDataSet(name, vlen, H5::DataSpace(1, &n));
                        if (n)
                            nd.write(ptrs.data(), vlen);
                    }
                }
            };
            H5::Group root = f.openGroup("/");
            visit(root);
            const int one = 1;
            root.openAttribute("mqs_format_version").write(H5::PredType::NATIVE_INT, &one);
        }
        resealSession(path);
        compareSessions(orig, loadSession(path));
        // the same variable-length strings under format 2: refused
        {
            H5::H5File f(path, H5F_ACC_RDWR);
            const int two = 2;
            f.openGroup("/").openAttribute("mqs_format_version").write(H5::PredType::NATIVE_INT, &two);
        }
        resealSession(path);
        try {
            loadSession(path);
            QFAIL("variable-length strings in a format-2 file should be refused");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("variable-length"), e.what());
        }
    }

    void badErrorsRefused()
    {
        // Save refuses figures that could not be read back (non-finite, negative token counts)
        // and names the module; the file on disk stays as it was.
        const std::string path = m_dir.filePath("errors-keep.mqs").toStdString();
        saveSession(makeSession(), path);
        const QByteArray before = readAll(QString::fromStdString(path));
        Session nan = makeSession();
        nan.errors[1].pooled.sqnrDb = std::numeric_limits<double>::quiet_NaN();
        try {
            saveSession(nan, path);
            QFAIL("saving a NaN SQNR should throw");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("/errors/values"), e.what());
            QVERIFY2(QString(e.what()).contains(QString::fromStdString(nan.errors[1].module)), e.what());
        }
        Session negative = makeSession();
        negative.errors[0].perModality[0].tokens = -1;
        QVERIFY_EXCEPTION_THROWN(saveSession(negative, path), InputError);
        QCOMPARE(readAll(QString::fromStdString(path)), before);

        // A file whose error values do not match its module list is refused on load, by name.
        {
            H5::H5File f(path, H5F_ACC_RDWR);
            f.unlink("/errors/module");
            const char one[] = "only.one";
            H5::StrType str(H5::PredType::C_S1, sizeof one - 1); // fixed-length, as format 2 stores strings
            str.setCset(H5T_CSET_UTF8);
            const hsize_t n = 1;
            f.openGroup("/errors").createDataSet("module", str, H5::DataSpace(1, &n)).write(one, str);
        }
        resealSession(path);
        try {
            loadSession(path);
            QFAIL("loading mismatched /errors should throw");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("/errors/values"), e.what());
            QVERIFY2(QString(e.what()).contains(QString::fromStdString(path)), e.what());
        }
    }

    void failedSaveKeepsOldFile()
    {
        const std::string path = m_dir.filePath("keep.mqs").toStdString();
        const Session good = makeSession();
        saveSession(good, path);
        const QByteArray before = readAll(QString::fromStdString(path));

        // A '/' would nest HDF5 groups; the store refuses it part-way through the write.
        Session bad = makeSession();
        bad.stats["model.layers.9/attn_in"] = bad.stats.begin()->second;
        try {
            saveSession(bad, path);
            QFAIL("saving a group name with '/' should throw");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("model.layers.9/attn_in"), e.what());
        }
        QCOMPARE(readAll(QString::fromStdString(path)), before);
        compareSessions(good, loadSession(path));

        // Inconsistent sizes are caught on save too, so a saved file always loads.
        Session wrong = makeSession();
        wrong.stats.begin()->second.pooled.hist.pop_back();
        QVERIFY_EXCEPTION_THROWN(saveSession(wrong, path), InputError);
        QCOMPARE(readAll(QString::fromStdString(path)), before);

        const QStringList left = QDir(m_dir.path()).entryList(QStringList{"*.tmp-*"}, QDir::Files | QDir::Hidden);
        QVERIFY2(left.isEmpty(), qPrintable(left.join(", ")));
    }

    void loadErrors_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expect"); // part of the message a person acts on
        QTest::newRow("missing") << "missing" << "no such file";
        QTest::newRow("text") << "text" << "not HDF5";
        QTest::newRow("truncated") << "truncated" << "truncated";
        QTest::newRow("no version") << "noversion" << "mqs_format_version";
        QTest::newRow("newer version") << "newer" << "newer than this build";
        QTest::newRow("bad stats size") << "badsize" << "/stats/g/text/min";
    }

    void loadErrors()
    {
        QFETCH(QString, kind);
        QFETCH(QString, expect);
        const std::string path = m_dir.filePath("bad-" + kind + ".mqs").toStdString();
        if (kind == "text") {
            std::ofstream(path) << "this is not a session\n";
        } else if (kind == "truncated") {
            const QByteArray full = readAll(QString::fromStdString(m_sessionPath));
            QVERIFY(full.size() > 1000);
            QFile f(QString::fromStdString(path));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(full.left(full.size() / 2));
        } else if (kind == "noversion" || kind == "newer") {
            H5::H5File f(path, H5F_ACC_TRUNC);
            if (kind == "newer") {
                const int v = kSessionFormatVersion + 1;
                f.openGroup("/")
                    .createAttribute("mqs_format_version", H5::PredType::STD_I32LE, H5::DataSpace(H5S_SCALAR))
                    .write(H5::PredType::NATIVE_INT, &v);
            }
        } else if (kind == "badsize") {
            // A valid session whose stats arrays disagree with their channel count.
            Session s;
            s.stats["g"].perModality[0] = makeStats(8, 10, 9);
            saveSession(s, path);
            {
                H5::H5File f(path, H5F_ACC_RDWR);
                const int64_t nine = 9;
                f.openGroup("/stats/g/text").openAttribute("channels").write(H5::PredType::NATIVE_INT64, &nine);
            }
            resealSession(path);
        }
        try {
            loadSession(path);
            QFAIL("loading should throw");
        } catch (const InputError& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains(QString::fromStdString(path)), e.what());
            QVERIFY2(msg.contains(expect), e.what());
        }
    }

    // A session file mutated anywhere (single bytes flipped, bytes zeroed, the file cut) is refused
    // with a clean InputError or, where the change is in the user block's padding, reads the same
    // content; never a crash (a crash would end this test process) and never changed content.
    // 400 mutations with a fixed seed; each named in the failure message.
    void mutatedSessionsNeverCrash()
    {
        const std::string path = m_dir.filePath("mutate-src.mqs").toStdString();
        const Session orig = makeSession();
        saveSession(orig, path);
        const QByteArray good = readAll(QString::fromStdString(path));
        QVERIFY(good.startsWith("MQS-CHECKSUM 1\n"));
        std::mt19937_64 rng(2026);
        int refused = 0, same = 0;
        for (int i = 0; i < 400; ++i) {
            QByteArray bad = good;
            QString what;
            const int kind = int(rng() % 4);
            const int at = int(rng() % uint64_t(bad.size()));
            if (kind == 0) {
                bad[at] = char(bad[at] ^ char(1 + rng() % 255));
                what = QString("byte %1 flipped").arg(at);
            } else if (kind == 1) {
                const int n = std::min<int>(16, bad.size() - at);
                for (int k = 0; k < n; ++k)
                    bad[at + k] = 0;
                what = QString("16 bytes zeroed at %1").arg(at);
            } else if (kind == 2) {
                bad.truncate(at);
                what = QString("cut at %1").arg(at);
            } else { // within the first 1024 bytes: the checksum header and the superblock
                const int a = at % 1024;
                bad[a] = char(bad[a] ^ 0x40);
                what = QString("byte %1 flipped (header)").arg(a);
            }
            const std::string p = m_dir.filePath(QString("mutated-%1.mqs").arg(i)).toStdString();
            {
                QFile f(QString::fromStdString(p));
                QVERIFY(f.open(QIODevice::WriteOnly));
                f.write(bad);
            }
            try {
                const Session got = loadSession(p);
                compareSessions(orig, got);
                if (QTest::currentTestFailed())
                    QFAIL(qPrintable("read changed content after " + what));
                ++same;
            } catch (const InputError& e) {
                QVERIFY2(QString(e.what()).contains(QString::fromStdString(p)), qPrintable(what + ": " + e.what()));
                ++refused;
            }
            std::remove(p.c_str());
        }
        qInfo("%d refused, %d read unchanged", refused, same);
        QVERIFY(refused > 250); // most mutations are outside the header's padding
        QCOMPARE(refused + same, 400);
    }

    void settingsJsonRoundTrip()
    {
        const QuantSettings q = nonDefaultSettings();
        compareSettings(q, settingsFromJson(settingsToJson(q), "test"));
        compareSettings(QuantSettings{}, settingsFromJson(settingsToJson(QuantSettings{}), "test"));
        // The per-token family (not in nonDefaultSettings: its method is morphoquant).
        QuantSettings t;
        t.method = "rtn";
        t.act = ActScheme::PerTokenDynamic;
        t.actClip = 0.85;
        t.actAsym = true;
        t.actClipSearch = 17;
        t.actClipMorphology = true;
        t.smooth = true;
        t.smoothAlpha = 0.375;
        t.rotation = "hadamard-heads:7";
        t.gptq.enabled = true;
        t.gptq.damp = 0.003;
        t.gptq.clipSteps = 9;
        t.gptq.fpTarget = true;
        t.weight.scaleDtype = ScaleDtype::BF16;
        t.weight.perTensor = true;
        const QuantSettings tb = settingsFromJson(settingsToJson(t), "test");
        compareSettings(t, tb);
        QVERIFY(tb.actClip == t.actClip);
        QCOMPARE(tb.actAsym, true);
        QCOMPARE(tb.actClipSearch, 17);
        QCOMPARE(tb.actClipMorphology, true);
        QCOMPARE(tb.smooth, true);
        QVERIFY(tb.smoothAlpha == t.smoothAlpha);
        QCOMPARE(tb.rotation, t.rotation);
        QCOMPARE(tb.gptq.enabled, true);
        QVERIFY(tb.gptq.damp == t.gptq.damp);
        QCOMPARE(tb.gptq.clipSteps, 9);
        QCOMPARE(tb.gptq.fpTarget, true);
        QVERIFY(tb.weight.scaleDtype == ScaleDtype::BF16);
        QCOMPARE(tb.weight.perTensor, true);
        QCOMPARE(tb.label(), t.label());
        QVERIFY2(QString::fromStdString(t.label()).contains("morphclip"), t.label().c_str());
        QCOMPARE(settingsFromJson(settingsToJson(QuantSettings{}), "test").actClipMorphology, false);
        // Missing keys take their defaults.
        const QuantSettings partial = settingsFromJson(R"({"abits": 8, "mdqfo": {"solver": "adam"}})", "test");
        QCOMPARE(partial.abits, 8);
        QVERIFY(partial.mdqfo.solver == MdqfoSolver::Adam);
        QCOMPARE(partial.mdqfo.ratios, MdqfoSettings{}.ratios);
        QCOMPARE(partial.weight.bits, WeightQuantSpec{}.bits);
    }

    void settingsJsonErrors_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expect");
        QTest::newRow("not json") << "{\"abits\": " << "not valid JSON";
        QTest::newRow("not object") << "[1, 2]" << "JSON object";
        QTest::newRow("bad enum") << R"({"act": "per-row"})" << "act";
        QTest::newRow("bad format") << R"({"weight": {"format": "int5"}})" << "weight.format";
        QTest::newRow("bad solver") << R"({"mdqfo": {"solver": "sgd"}})" << "mdqfo.solver";
        QTest::newRow("bad type") << R"({"dabc": {"k": "two"}})" << "dabc.k";
        QTest::newRow("out of range") << R"({"weight": {"bits": 1}})" << "weight.bits";
        QTest::newRow("unknown key") << R"({"dabc": {"kk": 2}})" << "dabc.kk";
        QTest::newRow("bad clip objective") << R"({"act_clip_objective": "kl"})" << "act_clip_objective";
    }

    void settingsJsonErrors()
    {
        QFETCH(QString, json);
        QFETCH(QString, expect);
        try {
            settingsFromJson(json.toStdString(), "run.json");
            QFAIL("should throw");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("run.json"), e.what());
            QVERIFY2(QString(e.what()).contains(expect), e.what());
        }
    }

private:
    QTemporaryDir m_dir;
    std::string m_sessionPath;
};

QTEST_APPLESS_MAIN(TestSession)
#include "tst_session.moc"
