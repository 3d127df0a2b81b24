// DABC (Eq. 6 masks, Eq. 7 compensation) and MDQFO (Eqs. 8-10 clipping search).
// Masks are checked on a hand-built Session whose statistics come from rows {+v, -v}, so each
// channel's Code-form score is D(v) = 2v / ln(1 + v + 1e-5) (range 2v, mean|x| v); the numbers
// below are worked out from that by hand, with the arithmetic in the comments.
#include <QtTest/QtTest>

#include <ATen/ATen.h>

#include <cmath>
#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/progress.h"
#include "quant/act_quant.h"
#include "quant/dabc.h"
#include "quant/mdqfo.h"
#include "session.h"

using namespace mq::core;

Q_DECLARE_METATYPE(std::vector<double>)

namespace {

const std::string kGroupA = "model.layers.0.attn_in";     // q_proj, k_proj
const std::string kGroupB = "model.layers.0.mlp_down_in"; // down_proj

// D(v) for the {+v, -v} rows (Code form):
//   D(1)  = 2 / ln(2.00001)    = 2 / 0.6931521805474454  = 2.8853692682902876
//   D(2)  = 4 / ln(3.00001)    = 4 / 1.0986156219958876  = 3.64094585941995
//   D(4)  = 8 / ln(5.00001)    = 8 / 1.6094399124321004  = 4.9706732995771326
//   D(64) = 128 / ln(65.00001) = 128 / 4.174387423741779 = 30.66318168553343
constexpr double kD1 = 2.8853692682902876;
constexpr double kD2 = 3.64094585941995;
constexpr double kD64 = 30.66318168553343;

// Stats of the two rows {+v, -v}.
ChannelStats symmetricStats(const std::vector<float>& v)
{
    const int64_t k = int64_t(v.size());
    std::vector<float> x(size_t(2 * k));
    for (int64_t c = 0; c < k; ++c) {
        x[size_t(c)] = v[size_t(c)];
        x[size_t(k + c)] = -v[size_t(c)];
    }
    ChannelStats s;
    s.reset(k);
    s.accumulate(x.data(), 2, "hand stats");
    return s;
}

std::vector<ModuleInfo> handModules()
{
    return {
        {"model.layers.0.self_attn.q_proj", 0, "q_proj", kGroupA, 10, 10},
        {"model.layers.0.self_attn.k_proj", 0, "k_proj", kGroupA, 10, 10},
        {"model.layers.0.mlp.down_proj", 0, "down_proj", kGroupB, 3, 10},
    };
}

// Group A (10 channels): v = 1 for c0..c8, v = 2 for c9 (the local outlier).
// Group B (3 channels):  v = 1, 64, 64 (c1, c2 stand out over all 13 channels).
// All text.
Session handSession()
{
    Session s;
    s.modules = handModules();
    s.groups = {kGroupA, kGroupB};
    InputStats a, b;
    a.perModality[size_t(Modality::Text)] = symmetricStats({1, 1, 1, 1, 1, 1, 1, 1, 1, 2});
    a.pooled = a.perModality[size_t(Modality::Text)];
    b.perModality[size_t(Modality::Text)] = symmetricStats({1, 64, 64});
    b.pooled = b.perModality[size_t(Modality::Text)];
    for (InputStats* st : {&a, &b})
        for (int m = 1; m < kNumModalities; ++m)
            st->perModality[size_t(m)].reset(st->pooled.channels);
    s.stats[kGroupA] = a;
    s.stats[kGroupB] = b;
    return s;
}

QString maskString(const std::vector<uint8_t>& m)
{
    QString out;
    for (uint8_t b : m)
        out += b ? QLatin1Char('1') : QLatin1Char('0');
    return out;
}

DabcSettings explicitSettings(double k, bool local, bool global, std::vector<std::string> force)
{
    DabcSettings st;
    st.enabled = true;
    st.k = k;
    st.useLocal = local;
    st.useGlobal = global;
    st.form = DispersionForm::Code;
    st.anyModality = false;
    st.rho = 0.0;
    st.forceKinds = std::move(force); // set explicitly
    st.maxShare = 1.0;                 // no cap: these tests check the thresholds themselves
    return st;
}

int ones(const std::vector<uint8_t>& m) { return int(std::count(m.begin(), m.end(), uint8_t(1))); }

bool relClose(double got, double want, double rel)
{
    return std::fabs(got - want) <= rel * std::fabs(want);
}

#define VERIFY_REL(got, want, rel)                                                                            \
    QVERIFY2(relClose((got), (want), (rel)),                                                                  \
             qPrintable(QStringLiteral("%1 = %2, expected %3 (rel %4)")                                       \
                            .arg(QStringLiteral(#got))                                                        \
                            .arg(double(got), 0, 'g', 17)                                                     \
                            .arg(double(want), 0, 'g', 17)                                                    \
                            .arg(double(rel))))

// Largest |a - b| / scale over all elements.
double maxScaledError(const at::Tensor& a, const at::Tensor& b, const at::Tensor& scale)
{
    return ((a - b).abs() / scale).max().item<double>();
}

// Per-output bound of a float32 product: sum_k |x_tk| |w_nk| + |b_n|.
at::Tensor productScale(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b)
{
    at::Tensor s = at::matmul(x.abs(), w.abs().t());
    return b.defined() ? s + b.abs() : s;
}

// Heavy-tailed calibration inputs: N(0,1), about 1 % of the elements scaled by 20, and
// channel 5 twice as wide. Fixed seed.
at::Tensor heavyTailed(int64_t t)
{
    at::manual_seed(1234);
    at::Tensor x = at::randn({t, 16});
    at::Tensor outlier = at::rand({t, 16}) < 0.01;
    x = at::where(outlier, x * 20.0, x);
    x.select(1, 5).mul_(2.0);
    return x;
}

MdqfoSettings mdqfoSettings(MdqfoSolver solver)
{
    MdqfoSettings st;
    st.solver = solver;
    st.p = 2.0;
    st.lambdaCos = 1.0;
    st.ratios = 15;
    st.rMin = 0.6;
    st.rMax = 1.0;
    st.emaDecay = 0.9;
    st.batchTokens = 512;
    st.adamSteps = 40;
    st.adamLr = 0.01;
    return st;
}

} // namespace

class TestDabcMdqfo : public QObject {
    Q_OBJECT

private slots:
    void outlierThreshold_data();
    void outlierThreshold();
    void maskScores();
    void masks_data();
    void masks();
    void maskCapKeepsHighestScores();
    void handEditsSurvive();
    void anyModality();
    void disabledGivesZeroMask();
    void missingStatsThrows();
    void compensatedIdentity();
    void dabcLinearMatchesDense_data();
    void dabcLinearMatchesDense();
    void dabcLinearZeroMask();
    void rhoHandExample_data();
    void rhoHandExample();
    void morphologyLossHand_data();
    void morphologyLossHand();
    void gridSearch_data();
    void gridSearch();
    void gridPicksEachChannelsBestRatio();
    void adamSolver();
    void cancelled_data();
    void cancelled();
    void badArguments();
    void fusedGridScoresMatchComposition_data();
    void fusedGridScoresMatchComposition();
};

// ---- outlierThreshold ---------------------------------------------------------------------

void TestDabcMdqfo::outlierThreshold_data()
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    QTest::addColumn<std::vector<double>>("scores");
    QTest::addColumn<double>("k");
    QTest::addColumn<double>("expected");
    // {1,2,3,4}: mu 2.5, var (1+4+9+16)/4 - 2.5^2 = 7.5 - 6.25 = 1.25, sigma sqrt(1.25) =
    // 1.118033988749895; tau = 2.5 + 2 * 1.118033988749895 = 4.73606797749979
    QTest::newRow("1..4 k=2") << std::vector<double>{1, 2, 3, 4} << 2.0 << 4.73606797749979;
    // {2,4,4,4,5,5,7,9}: mu 40/8 = 5, var (9+1+1+1+0+0+4+16)/8 = 4, sigma 2 (population)
    const std::vector<double> classic{2, 4, 4, 4, 5, 5, 7, 9};
    QTest::newRow("classic k=2") << classic << 2.0 << 9.0; // 5 + 2*2
    QTest::newRow("classic k=1") << classic << 1.0 << 7.0; // 5 + 1*2
    QTest::newRow("classic k=0") << classic << 0.0 << 5.0; // mu
    QTest::newRow("classic k=2.5") << classic << 2.5 << 10.0; // 5 + 2.5*2
    // Non-finite entries are skipped: same as the classic list.
    QTest::newRow("classic + NaN/Inf") << std::vector<double>{nan, 2, 4, inf, 4, 4, 5, -inf, 5, 7, 9, nan} << 2.0
                                       << 9.0;
    QTest::newRow("single value") << std::vector<double>{3.5} << 2.0 << 3.5; // sigma 0
    QTest::newRow("empty") << std::vector<double>{} << 2.0 << inf;           // nothing is an outlier
    QTest::newRow("only non-finite") << std::vector<double>{nan, inf} << 2.0 << inf;
}

void TestDabcMdqfo::outlierThreshold()
{
    QFETCH(std::vector<double>, scores);
    QFETCH(double, k);
    QFETCH(double, expected);
    const double got = mq::core::outlierThreshold(scores, k);
    if (std::isinf(expected)) {
        QVERIFY(std::isinf(got) && got > 0);
        return;
    }
    // 1e-12 relative: double sums of a few small numbers; the one-pass variance loses at
    // most a couple of digits here.
    VERIFY_REL(got, expected, 1e-12);
}

// ---- computeMasks -------------------------------------------------------------------------

void TestDabcMdqfo::maskScores()
{
    Session s = handSession();
    computeMasks(s, explicitSettings(2.0, true, true, {}));
    QCOMPARE(s.plans.size(), size_t(2));
    const GroupPlan& a = s.plans.at(kGroupA);
    const GroupPlan& b = s.plans.at(kGroupB);
    QCOMPARE(a.scores.size(), size_t(10));
    QCOMPARE(b.scores.size(), size_t(3));
    // 1e-9 relative: double log and division; the literals carry 16-17 digits.
    for (int c = 0; c < 9; ++c)
        VERIFY_REL(a.scores[size_t(c)], kD1, 1e-9);
    VERIFY_REL(a.scores[9], kD2, 1e-9);
    VERIFY_REL(b.scores[0], kD1, 1e-9);
    VERIFY_REL(b.scores[1], kD64, 1e-9);
    VERIFY_REL(b.scores[2], kD64, 1e-9);
    // Plans are created with no hand edits and alpha left alone.
    QCOMPARE(a.handEdited, std::vector<uint8_t>(10, 0));
    QVERIFY(a.alpha0.empty() && a.alpha.empty());
}

void TestDabcMdqfo::masks_data()
{
    QTest::addColumn<double>("k");
    QTest::addColumn<bool>("local");
    QTest::addColumn<bool>("global");
    QTest::addColumn<QStringList>("force");
    QTest::addColumn<QString>("maskA");
    QTest::addColumn<QString>("maskB");
    QTest::addColumn<double>("tauA");
    QTest::addColumn<double>("tauB");
    QTest::addColumn<double>("tauG");
    // Group A: nine D1 and one D2. mu = (9*2.8853692682902876 + 3.64094585941995)/10
    //   = 2.9609269274032535; sigma = (D2 - D1) * sqrt(0.1 * 0.9) = 0.7555765911296626 * 0.3
    //   = 0.22667297733889877 (c9 sits exactly 3 sigma above the mean).
    // Group B: {D1, D64, D64}. mu = (2.8853692682902876 + 2*30.66318168553343)/3
    //   = 21.403910879785716; sigma = (D64 - D1) * sqrt(1/3 * 2/3) = 27.777812417243144 * 0.4714045207910317
    //   = 13.094586351173673 (no B channel is more than 1.42 sigma out).
    // Global, all 13: mu = (9 D1 + D2 + D1 + 2 D64) / 13 = 93.8210019133897 / 13
    //   = 7.217000147183823; sigma = sqrt(mean of squared deviations) = 9.999481842103952.
    // tau = mu + k sigma:
    //   k=2:   A 2.9609269274032535 + 0.45334595467779754 = 3.414272882081051
    //          B 21.403910879785716 + 26.189172702347346  = 47.59308358213306
    //          G 7.217000147183823  + 19.998963684207904  = 27.215963831391726
    //   k=2.5: A 3.5276093707505005, B 54.14037675771989, G 32.215704752443706
    //   k=4:   A 3.8676188367588487, B 73.78225628448041, G 47.21492751559963
    // So at k=2 c9 of A is flagged locally only (3.64 > 3.41, < 27.2) and B's c1, c2 globally
    // only (30.66 > 27.2, < 47.6); at k=2.5 the global tau rises above D64; at k=4 the local
    // tau of A rises above D2 (3 sigma < 4 sigma).
    const double a2 = 3.414272882081051, b2 = 47.59308358213306, g2 = 27.215963831391726;
    const double a25 = 3.5276093707505005, b25 = 54.14037675771989, g25 = 32.215704752443706;
    const double a4 = 3.8676188367588487, b4 = 73.78225628448041, g4 = 47.21492751559963;
    const QStringList none;
    QTest::newRow("k=2 local+global") << 2.0 << true << true << none << "0000000001" << "011" << a2 << b2 << g2;
    QTest::newRow("k=2 local only") << 2.0 << true << false << none << "0000000001" << "000" << a2 << b2 << g2;
    QTest::newRow("k=2 global only") << 2.0 << false << true << none << "0000000000" << "011" << a2 << b2 << g2;
    QTest::newRow("k=2 neither") << 2.0 << false << false << none << "0000000000" << "000" << a2 << b2 << g2;
    QTest::newRow("k=2.5") << 2.5 << true << true << none << "0000000001" << "000" << a25 << b25 << g25;
    QTest::newRow("k=4") << 4.0 << true << true << none << "0000000000" << "000" << a4 << b4 << g4;
    QTest::newRow("force down_proj") << 2.0 << true << true << QStringList{"down_proj"} << "0000000001" << "111" << a2
                                     << b2 << g2;
    QTest::newRow("force down_proj k=4") << 4.0 << true << true << QStringList{"down_proj"} << "0000000000" << "111"
                                         << a4 << b4 << g4;
    QTest::newRow("force q_proj (one member of A)") << 2.0 << true << true << QStringList{"q_proj"} << "1111111111"
                                                    << "011" << a2 << b2 << g2;
    QTest::newRow("force unknown kind") << 2.0 << true << true << QStringList{"o_proj"} << "0000000001" << "011"
                                        << a2 << b2 << g2;
}

// The budget cap: at most floor(share * K) channels per group stay compensated, those of the
// highest scores; forced groups are capped too; a hand-edited bit is kept whatever the cap.
void TestDabcMdqfo::maskCapKeepsHighestScores()
{
    Session s = handSession();
    DabcSettings st = explicitSettings(-1.0, true, true, {}); // k = -1: most channels flagged
    computeMasks(s, st);
    const std::vector<uint8_t> uncapped = s.plans.at(kGroupA).mask;
    QVERIFY(ones(uncapped) > 2);
    st.maxShare = 0.25; // group A (10 channels): 2; group B (3 channels): 0
    computeMasks(s, st);
    const GroupPlan& a = s.plans.at(kGroupA);
    QCOMPARE(ones(a.mask), 2);
    QCOMPARE(ones(s.plans.at(kGroupB).mask), 0);
    for (size_t c = 0; c < a.mask.size(); ++c)
        for (size_t d = 0; d < a.mask.size(); ++d)
            if (a.mask[c] && !a.mask[d] && uncapped[d])
                QVERIFY(a.scores[c] >= a.scores[d]); // the dropped ones score lower
    // Forced groups are capped as well; a hand edit survives the cap.
    st.forceKinds = {"down_proj"};
    st.maxShare = 0.34; // B: 1 of 3
    computeMasks(s, st);
    QCOMPARE(ones(s.plans.at(kGroupB).mask), 1);
    GroupPlan& b = s.plans.at(kGroupB);
    const size_t off = b.mask[0] ? 1 : 0;
    b.mask[off] = 1;
    b.handEdited[off] = 1;
    computeMasks(s, st);
    QCOMPARE(ones(s.plans.at(kGroupB).mask), 2);
    QCOMPARE(int(s.plans.at(kGroupB).mask[off]), 1);
}

void TestDabcMdqfo::masks()
{
    QFETCH(double, k);
    QFETCH(bool, local);
    QFETCH(bool, global);
    QFETCH(QStringList, force);
    QFETCH(QString, maskA);
    QFETCH(QString, maskB);
    QFETCH(double, tauA);
    QFETCH(double, tauB);
    QFETCH(double, tauG);
    std::vector<std::string> forceKinds;
    for (const QString& f : force)
        forceKinds.push_back(f.toStdString());
    Session s = handSession();
    computeMasks(s, explicitSettings(k, local, global, forceKinds));
    QCOMPARE(maskString(s.plans.at(kGroupA).mask), maskA);
    QCOMPARE(maskString(s.plans.at(kGroupB).mask), maskB);
    // 1e-9 relative: double arithmetic on the scores above (one-pass variance included).
    VERIFY_REL(s.plans.at(kGroupA).tauLocal, tauA, 1e-9);
    VERIFY_REL(s.plans.at(kGroupB).tauLocal, tauB, 1e-9);
    VERIFY_REL(s.plans.at(kGroupA).tauGlobal, tauG, 1e-9);
    VERIFY_REL(s.plans.at(kGroupB).tauGlobal, tauG, 1e-9);
}

void TestDabcMdqfo::handEditsSurvive()
{
    Session s = handSession();
    computeMasks(s, explicitSettings(2.0, true, true, {}));
    QCOMPARE(maskString(s.plans.at(kGroupA).mask), QStringLiteral("0000000001"));
    // By hand: A c0 on, A c9 off, B c1 off.
    GroupPlan& a = s.plans[kGroupA];
    a.handEdited[0] = 1;
    a.mask[0] = 1;
    a.handEdited[9] = 1;
    a.mask[9] = 0;
    GroupPlan& b = s.plans[kGroupB];
    b.handEdited[1] = 1;
    b.mask[1] = 0;
    // Recompute with forced down_proj: B would be all ones, but its hand-edited c1 stays 0.
    computeMasks(s, explicitSettings(2.0, true, true, {"down_proj"}));
    QCOMPARE(maskString(s.plans.at(kGroupA).mask), QStringLiteral("1000000000"));
    QCOMPARE(maskString(s.plans.at(kGroupB).mask), QStringLiteral("101"));
    // Again with k=4 (nothing flagged): hand bits still win, the rest follows the settings.
    computeMasks(s, explicitSettings(4.0, true, true, {}));
    QCOMPARE(maskString(s.plans.at(kGroupA).mask), QStringLiteral("1000000000"));
    QCOMPARE(maskString(s.plans.at(kGroupB).mask), QStringLiteral("000"));
    QCOMPARE(s.plans.at(kGroupA).handEdited, (std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    QCOMPARE(s.plans.at(kGroupB).handEdited, (std::vector<uint8_t>{0, 1, 0}));
}

void TestDabcMdqfo::anyModality()
{
    // Group A, per channel (v_text, v_audio), each modality two rows {+v, -v}:
    //   c0 c1 c2 c4: (4, 1)   c3: (1, 4)   c5..c9: (2, 1)
    // Pooled (4 rows): c0-c4 all have range 8, mean|x| (4+4+1+1)/4 = 2.5:
    //   D = 8 / ln(3.50001) = 8 / 1.2527658256341436 = 6.385870237121484
    // c5-c9 range 4, mean|x| 1.5: D = 4 / ln(2.50001) = 4 / 0.9162947318661551 = 4.365407614920445.
    // Two equal clusters: every channel is 1 sigma from the mean, so pooled flags nothing in A.
    // Audio: c3 has D(4) = 4.9706732995771326, the other nine D(1) = 2.8853692682902876:
    // c3 is 3 sigma out (mu = (9 D(1) + D(4)) / 10 = 3.093899671418972,
    // sigma = (D(4) - D(1)) * 0.3 = 0.6255912093860535, tau = mu + 2 sigma = 4.345082090191078), flagged.
    // Text: c3 is the low one (D(1)), nothing flagged in A.
    // Group B as in handSession (text only): c1, c2 flagged by the global threshold.
    Session s;
    s.modules = handModules();
    s.groups = {kGroupA, kGroupB};
    std::vector<float> vt{4, 4, 4, 1, 4, 2, 2, 2, 2, 2}, va{1, 1, 1, 4, 1, 1, 1, 1, 1, 1};
    InputStats a;
    a.perModality[size_t(Modality::Text)] = symmetricStats(vt);
    a.perModality[size_t(Modality::Image)].reset(10);
    a.perModality[size_t(Modality::Video)].reset(10);
    a.perModality[size_t(Modality::Audio)] = symmetricStats(va);
    a.pooled.reset(10);
    for (const ChannelStats& cs : a.perModality)
        a.pooled.merge(cs);
    s.stats[kGroupA] = a;
    s.stats[kGroupB] = handSession().stats[kGroupB];

    DabcSettings st = explicitSettings(2.0, true, true, {});
    st.anyModality = false;
    computeMasks(s, st);
    QCOMPARE(maskString(s.plans.at(kGroupA).mask), QStringLiteral("0000000000"));
    QCOMPARE(maskString(s.plans.at(kGroupB).mask), QStringLiteral("011"));

    st.anyModality = true;
    computeMasks(s, st);
    QCOMPARE(maskString(s.plans.at(kGroupA).mask), QStringLiteral("0001000000"));
    QCOMPARE(maskString(s.plans.at(kGroupB).mask), QStringLiteral("011"));
    // The recorded scores stay the pooled ones (1e-9 relative, doubles).
    VERIFY_REL(s.plans.at(kGroupA).scores[3], 6.385870237121484, 1e-9);
    VERIFY_REL(s.plans.at(kGroupA).scores[5], 4.365407614920445, 1e-9);
}

void TestDabcMdqfo::disabledGivesZeroMask()
{
    Session s = handSession();
    DabcSettings st = explicitSettings(2.0, true, true, {"down_proj"});
    st.enabled = false;
    computeMasks(s, st);
    QCOMPARE(maskString(s.plans.at(kGroupA).mask), QStringLiteral("0000000000"));
    QCOMPARE(maskString(s.plans.at(kGroupB).mask), QStringLiteral("000"));
    // Scores are still recorded (1e-9 relative, doubles).
    VERIFY_REL(s.plans.at(kGroupA).scores[9], kD2, 1e-9);
}

void TestDabcMdqfo::missingStatsThrows()
{
    Session s = handSession();
    s.stats.erase(kGroupB);
    QVERIFY_THROWS_EXCEPTION(Error, computeMasks(s, explicitSettings(2.0, true, true, {})));
}

// ---- DABC forward -------------------------------------------------------------------------

void TestDabcMdqfo::compensatedIdentity()
{
    at::manual_seed(7);
    const at::Tensor x = at::randn({64, 16}) * 3.0;
    // alpha = 0.6 max|x_c| so about the top 40 % of each channel's range is clipped.
    const at::Tensor alpha = x.abs().amax(0) * 0.6;
    const at::Tensor xq = fakeQuantPerChannel(x, alpha, 4);
    QVERIFY(!at::equal(xq, x));
    // Exact: for every element x and xq lie within a factor 2 of each other (|x - xq| <= s/2
    // with |xq| >= s, or xq = 0, or clipped with |x| <= max|x| = alpha/0.6 < 2 alpha), so
    // x - xq is exact (Sterbenz) and xq + (x - xq) is exactly x; the mask multiplies by 1.
    for (at::ScalarType dt : {at::kFloat, at::kByte, at::kBool}) {
        const at::Tensor ones = at::ones({16}, dt);
        QVERIFY(at::equal(compensatedInput(x, xq, ones, alpha, 0.0), x));
    }
    // And mask zeros gives Q(x) exactly.
    QVERIFY(at::equal(compensatedInput(x, xq, at::zeros({16}), alpha, 0.0), xq));
}

void TestDabcMdqfo::dabcLinearMatchesDense_data()
{
    QTest::addColumn<QString>("maskKind");
    QTest::addColumn<double>("rho");
    QTest::addColumn<bool>("withBias");
    QTest::newRow("ones rho=0 bias (vs linear(x))") << "ones" << 0.0 << true;
    QTest::newRow("ones rho=0 no bias (vs linear(x))") << "ones" << 0.0 << false;
    QTest::newRow("partial rho=0 bias") << "partial" << 0.0 << true;
    QTest::newRow("partial rho=0 no bias") << "partial" << 0.0 << false;
    QTest::newRow("partial rho=0.5 bias") << "partial" << 0.5 << true;
    QTest::newRow("ones rho=0.5 bias") << "ones" << 0.5 << true;
}

void TestDabcMdqfo::dabcLinearMatchesDense()
{
    QFETCH(QString, maskKind);
    QFETCH(double, rho);
    QFETCH(bool, withBias);
    at::manual_seed(11);
    const at::Tensor x = at::randn({32, 16}) * 2.0;
    const at::Tensor w = at::randn({8, 16});
    const at::Tensor b = withBias ? at::randn({8}) : at::Tensor();
    const at::Tensor alpha = x.abs().amax(0) * 0.6;
    const at::Tensor xq = fakeQuantPerChannel(x, alpha, 4);
    at::Tensor mask = at::ones({16}, at::kByte);
    if (maskKind == QLatin1String("partial")) {
        mask.zero_();
        for (int c : {2, 5, 11})
            mask[c] = 1;
    }
    const at::Tensor got = dabcLinear(x, xq, w, b, mask, alpha, rho);
    // With every channel masked and rho = 0 the reference is the unquantized product.
    const at::Tensor ref = (maskKind == QLatin1String("ones") && rho == 0.0)
                               ? (b.defined() ? at::linear(x, w, b) : at::linear(x, w))
                               : (b.defined() ? at::linear(compensatedInput(x, xq, mask, alpha, rho), w, b)
                                              : at::linear(compensatedInput(x, xq, mask, alpha, rho), w));
    QCOMPARE(got.sizes(), ref.sizes());
    // 1e-5 relative to sum_k |x_tk||w_nk| + |b_n|: float32 (unit roundoff 6e-8) dot products of
    // length 16 err by at most ~16 * 6e-8 = 1e-6 of that sum; the two products of the sparse
    // form sum in a different order than the one dense product, so allow 10x.
    const double err = maxScaledError(got, ref, productScale(x, w, b));
    QVERIFY2(err <= 1e-5, qPrintable(QStringLiteral("scaled error %1").arg(err)));
    // The masked channels really contribute (the reference differs from the plain Q(x) product
    // by far more than the tolerance).
    const at::Tensor plain = b.defined() ? at::linear(xq, w, b) : at::linear(xq, w);
    QVERIFY(maxScaledError(plain, ref, productScale(x, w, b)) > 1e-3);
}

void TestDabcMdqfo::dabcLinearZeroMask()
{
    at::manual_seed(12);
    const at::Tensor x = at::randn({32, 16});
    const at::Tensor w = at::randn({8, 16});
    const at::Tensor b = at::randn({8});
    const at::Tensor alpha = x.abs().amax(0);
    const at::Tensor xq = fakeQuantPerChannel(x, alpha, 4);
    // Exact: with no masked channel the result is the dense product of Q(x) and nothing else.
    QVERIFY(at::equal(dabcLinear(x, xq, w, b, at::zeros({16}, at::kByte), alpha, 0.0), at::linear(xq, w, b)));
    QVERIFY(at::equal(dabcLinear(x, xq, w, b, at::zeros({16}), alpha, 0.5), at::linear(xq, w, b)));
}

void TestDabcMdqfo::rhoHandExample_data()
{
    QTest::addColumn<double>("rho");
    QTest::addColumn<std::vector<double>>("xhat"); // [2, 4] row-major
    QTest::addColumn<std::vector<double>>("y");    // [2, 2] row-major
    QTest::addColumn<double>("tol");
    // x  = [[0.25, 0.75, -1.5, 3.0], [0.2, -1.0, 1.25, 0.25]]
    // xq = [[0.0,  1.0,  -1.0, 2.0], [0.25, -0.5, 1.0, 0.0]]   (given, not computed)
    // mask = [1, 1, 1, 0], alpha = [0.4, 2, 2, 0.5]
    // W = [[1, 2, 0, -1], [0.5, 0, 1, 1]], b = [0.5, -1]
    //
    // rho = 0.5: thresholds rho*alpha = [0.2, 1.0, 1.0, 0.25]; compensate masked |x| > thr:
    //   row 0: c0 0.25 > 0.2 yes -> 0.25; c1 0.75 > 1 no -> 1.0; c2 1.5 > 1 yes -> -1.5;
    //          c3 unmasked -> 2.0
    //   row 1: c0 0.2 > 0.2 no (strict) -> 0.25; c1 1.0 > 1 no -> -0.5; c2 1.25 > 1 yes -> 1.25;
    //          c3 unmasked -> 0.0
    //   y row 0: 0.25 + 2 + 0 - 2 + 0.5 = 0.75;  0.125 + 0 - 1.5 + 2 - 1 = -0.375
    //   y row 1: 0.25 - 1 + 0 - 0 + 0.5 = -0.25; 0.125 + 0 + 1.25 + 0 - 1 = 0.375
    // All dyadic: exact (tolerance 0).
    QTest::newRow("rho=0.5") << 0.5 << std::vector<double>{0.25, 1.0, -1.5, 2.0, 0.25, -0.5, 1.25, 0.0}
                             << std::vector<double>{0.75, -0.375, -0.25, 0.375} << 0.0;
    // rho = 0: every masked element is compensated:
    //   row 0: [0.25, 0.75, -1.5, 2.0]; row 1: [0.2, -1.0, 1.25, 0.0]
    //   y row 0: 0.25 + 1.5 + 0 - 2 + 0.5 = 0.25; 0.125 + 0 - 1.5 + 2 - 1 = -0.375
    //   y row 1: 0.2 - 2 + 0 - 0 + 0.5 = -1.3;    0.1 + 0 + 1.25 + 0 - 1 = 0.35
    // 0.2 is not exact in float32: allow 1e-6 absolute (a few ulps of values of order 1).
    QTest::newRow("rho=0") << 0.0 << std::vector<double>{0.25, 0.75, -1.5, 2.0, 0.2, -1.0, 1.25, 0.0}
                           << std::vector<double>{0.25, -0.375, -1.3, 0.35} << 1e-6;
}

void TestDabcMdqfo::rhoHandExample()
{
    QFETCH(double, rho);
    QFETCH(std::vector<double>, xhat);
    QFETCH(std::vector<double>, y);
    QFETCH(double, tol);
    const at::Tensor x = at::tensor({0.25f, 0.75f, -1.5f, 3.0f, 0.2f, -1.0f, 1.25f, 0.25f}).view({2, 4});
    const at::Tensor xq = at::tensor({0.0f, 1.0f, -1.0f, 2.0f, 0.25f, -0.5f, 1.0f, 0.0f}).view({2, 4});
    const at::Tensor mask = at::tensor({1, 1, 1, 0}, at::kByte);
    const at::Tensor alpha = at::tensor({0.4f, 2.0f, 2.0f, 0.5f});
    const at::Tensor w = at::tensor({1.0f, 2.0f, 0.0f, -1.0f, 0.5f, 0.0f, 1.0f, 1.0f}).view({2, 4});
    const at::Tensor b = at::tensor({0.5f, -1.0f});

    const at::Tensor xh = compensatedInput(x, xq, mask, alpha, rho);
    const at::Tensor wantXh = at::tensor(xhat, at::kDouble).view({2, 4}).to(at::kFloat);
    // x_hat only copies elements of x or xq: always exact.
    QVERIFY2(at::equal(xh, wantXh), qPrintable(QStringLiteral("x_hat differs")));

    const at::Tensor got = dabcLinear(x, xq, w, b, mask, alpha, rho).to(at::kDouble);
    const at::Tensor want = at::tensor(y, at::kDouble).view({2, 2});
    const double err = (got - want).abs().max().item<double>();
    QVERIFY2(err <= tol, qPrintable(QStringLiteral("max error %1").arg(err)));
}

// ---- MDQFO --------------------------------------------------------------------------------

void TestDabcMdqfo::morphologyLossHand_data()
{
    QTest::addColumn<QString>("mask");
    QTest::addColumn<double>("p");
    QTest::addColumn<double>("lambda");
    QTest::addColumn<double>("lp");
    QTest::addColumn<double>("lcos");
    QTest::addColumn<double>("total");
    // X = [[1.25, -3], [10, 0.5]], 4 bits (qmax 7), alpha = [7, 7] so the step is 1:
    // Q(X) = [[round(1.25) = 1, -3], [clamp(10) = 7, round-half-even(0.5) = 0]]
    // X - X_hat (mask 00) = [[0.25, 0], [3, 0.5]]
    //   L_2   = (0.0625 + 0 + 9 + 0.25) / 4 = 9.3125 / 4 = 2.328125
    //   L_3   = (0.015625 + 0 + 27 + 0.125) / 4 = 27.140625 / 4 = 6.78515625
    //   L_0.5 = (0.5 + 0 + sqrt(3) + sqrt(0.5)) / 4 = (0.5 + 1.7320508075688772
    //           + 0.7071067811865476) / 4 = 0.7347893971888562
    //   cos row 0 = (1.25*1 + 3*3) / (sqrt(10.5625) sqrt(10)) = 10.25 / (3.25 * 3.1622776601683795)
    //             = 0.9973337235915658
    //   cos row 1 = (10*7 + 0) / (sqrt(100.25) * 7) = 70 / 70.08744538075275 = 0.9987523388778446
    //   L_cos = 1 - (0.9973337235915658 + 0.9987523388778446) / 2 = 0.001956968765294942
    // mask 01 compensates channel 1: X_hat row 1 = [7, 0.5], diff [[0.25, 0], [3, 0]]
    //   L_2 = (0.0625 + 9) / 4 = 2.265625
    //   cos row 1 = (70 + 0.25) / (sqrt(100.25) sqrt(49.25)) = 0.9997721172806792
    //   L_cos = 1 - (0.9973337235915658 + 0.9997721172806792) / 2 = 0.0014470795638775735
    const double lc = 0.001956968765294942, lcm = 0.0014470795638775735;
    QTest::newRow("p=2 lambda=1") << "00" << 2.0 << 1.0 << 2.328125 << lc << 2.330081968765295; // 2.328125 + lc
    QTest::newRow("p=2 lambda=0.5") << "00" << 2.0 << 0.5 << 2.328125 << lc
                                    << 2.3291034843826477; // 2.328125 + 0.5 * lc
    QTest::newRow("p=3 lambda=1") << "00" << 3.0 << 1.0 << 6.78515625 << lc << 6.787113218765295; // 6.78515625 + lc
    QTest::newRow("p=0.5 lambda=1") << "00" << 0.5 << 1.0 << 0.7347893971888562 << lc
                                    << 0.7367463659541511; // 0.7347893971888562 + lc
    QTest::newRow("p=2 lambda=1 mask 01") << "01" << 2.0 << 1.0 << 2.265625 << lcm
                                          << 2.2670720795638775; // 2.265625 + lcm
}

void TestDabcMdqfo::morphologyLossHand()
{
    QFETCH(QString, mask);
    QFETCH(double, p);
    QFETCH(double, lambda);
    QFETCH(double, lp);
    QFETCH(double, lcos);
    QFETCH(double, total);
    const at::Tensor x = at::tensor({1.25f, -3.0f, 10.0f, 0.5f}).view({2, 2});
    const at::Tensor alpha = at::tensor({7.0f, 7.0f});
    const auto bit = [&](int c) { return mask[c] == QLatin1Char('1') ? 1.0f : 0.0f; };
    const at::Tensor m = at::tensor({bit(0), bit(1)});
    DabcSettings dabc = explicitSettings(2.0, true, true, {});
    MdqfoSettings st = mdqfoSettings(MdqfoSolver::GridSearch);
    st.p = p;
    st.lambdaCos = lambda;
    const MorphologyLoss l = morphologyLoss(x, alpha, m, 4, dabc, st);
    // L_p: float32 elementwise on small values; exact for p = 2, 3 (dyadic), a float32 sqrt
    // for p = 0.5: 1e-6 relative.
    VERIFY_REL(l.lp, lp, 1e-6);
    // L_cos = 1 - (cos ~ 0.998) in float32: the cosines carry ~1e-7 absolute error, which is
    // ~1e-4 of L_cos itself, so compare absolutely at 1e-6.
    QVERIFY2(std::fabs(l.lcos - lcos) <= 1e-6, qPrintable(QString::number(l.lcos, 'g', 17)));
    QVERIFY2(std::fabs(l.total - total) <= 1e-6 * (1.0 + total), qPrintable(QString::number(l.total, 'g', 17)));
}

void TestDabcMdqfo::gridSearch_data()
{
    QTest::addColumn<int>("tokens");
    QTest::addColumn<int>("points");
    QTest::newRow("T=2048: 4 batches of 512") << 2048 << 5;   // 2048 / 512 = 4 batches + step 0
    QTest::newRow("T=1100: 512+512+76") << 1100 << 4;         // ceil(1100 / 512) = 3 batches + step 0
}

void TestDabcMdqfo::gridSearch()
{
    QFETCH(int, tokens);
    QFETCH(int, points);
    const at::Tensor x = heavyTailed(tokens);
    const at::Tensor alpha0 = x.abs().amax(0);
    const at::Tensor mask = at::zeros({16});
    const DabcSettings dabc = explicitSettings(2.0, true, true, {});
    const MdqfoSettings st = mdqfoSettings(MdqfoSolver::GridSearch);
    const MdqfoResult r = optimizeClipping(x, alpha0, mask, 4, dabc, st);

    QCOMPARE(int(r.curve.size()), points);
    for (size_t i = 0; i < r.curve.size(); ++i) {
        QCOMPARE(r.curve[i].step, int(i));
        // total = lp + lambda * lcos with lambda 1: doubles, 1e-12 relative.
        VERIFY_REL(r.curve[i].total, r.curve[i].lp + r.curve[i].lcos, 1e-12);
    }
    QVERIFY2(r.curve.back().total < r.curve.front().total,
             qPrintable(QStringLiteral("%1 -> %2").arg(r.curve.front().total).arg(r.curve.back().total)));

    // Step 0 is alpha0 scored on the evaluation subset, which is all of x for T <= 2048.
    // 1e-9 relative: the same float32 computation on the same data; only a reduction order
    // that depended on the call could differ.
    const MorphologyLoss l0 = morphologyLoss(x, alpha0, mask, 4, dabc, st);
    VERIFY_REL(r.curve.front().lp, l0.lp, 1e-9);
    VERIFY_REL(r.curve.front().lcos, l0.lcos, 1e-9);
    VERIFY_REL(r.curve.front().total, l0.total, 1e-9);

    // Every alpha is alpha0 times one of the 15 ratios 0.6^(1 - j/14), j = 0..14:
    const double ratios[15] = {0.6,                0.6222968313782435, 0.64542224390567,   0.6694070288058905,
                               0.6942831215470504, 0.7200836443635423, 0.746842950357884,
                               0.7745966692414834, // j = 7: 0.6^0.5 = sqrt(0.6)
                               0.803381754775194,  0.8332365339728273, 0.8642007581331342, 0.8963156557682087,
                               0.9296239874987813, 0.9641701029894991, 1.0};
    QCOMPARE(r.alpha.size(), size_t(16));
    const at::Tensor a0 = alpha0.contiguous();
    bool anyClipped = false;
    for (int c = 0; c < 16; ++c) {
        const double base = a0[c].item<double>();
        const double ratio = double(r.alpha[size_t(c)]) / base;
        // Bounds [rMin alpha0, rMax alpha0] and grid membership to 1e-6 relative: alpha0 * r is
        // rounded to float32 (6e-8) once.
        QVERIFY2(ratio >= 0.6 * (1 - 1e-6) && ratio <= 1.0 * (1 + 1e-6), qPrintable(QString::number(ratio)));
        bool onGrid = false;
        for (double g : ratios)
            onGrid = onGrid || std::fabs(ratio - g) <= 1e-6 * g;
        QVERIFY2(onGrid, qPrintable(QStringLiteral("channel %1 ratio %2").arg(c).arg(ratio, 0, 'g', 10)));
        anyClipped = anyClipped || ratio < 0.99;
    }
    QVERIFY(anyClipped); // the heavy tails make clipping pay off somewhere
}

// The grid solver gives each channel the ratio with its best score, where a channel's score is
// its own mean |x - x_hat|^p plus lambda times the token-cosine loss of the whole group at that
// ratio, averaged over batches by the EMA. Scored here by hand, in double, from the definitions
// (DESIGN.md's quantizer, Eq. 7's compensation with rho), on two batches so that the EMA counts.
void TestDabcMdqfo::gridPicksEachChannelsBestRatio()
{
    const int64_t T = 1024, K = 16;
    const at::Tensor x = heavyTailed(T);
    const at::Tensor alpha0 = x.abs().amax(0);
    at::Tensor mask = at::zeros({K});
    mask[3] = 1.f; // two compensated channels, one of them the widest
    mask[5] = 1.f;
    DabcSettings dabc = explicitSettings(2.0, true, true, {});
    dabc.rho = 0.5;
    MdqfoSettings st = mdqfoSettings(MdqfoSolver::GridSearch);
    st.p = 3.0;
    st.lambdaCos = 0.5;
    st.ratios = 9;
    st.batchTokens = 512; // two batches: EMA = 0.9 * s1 + 0.1 * s2
    const int abits = 4;
    const MdqfoResult r = optimizeClipping(x, alpha0, mask, abits, dabc, st);
    QCOMPARE(r.alpha.size(), size_t(K));

    const double qmax = 7.0;
    std::vector<double> ratios(size_t(st.ratios));
    for (int j = 0; j < st.ratios; ++j)
        ratios[size_t(j)] = std::exp(std::log(0.6) * (1.0 - double(j) / (st.ratios - 1)));
    const at::Tensor xd = x.to(at::kDouble).contiguous();
    const double* px = xd.data_ptr<double>();
    const at::Tensor a0d = alpha0.to(at::kDouble).contiguous();
    std::vector<double> a0v(static_cast<size_t>(K));
    std::vector<bool> masked(static_cast<size_t>(K));
    for (int64_t c = 0; c < K; ++c) {
        a0v[size_t(c)] = a0d[c].item<double>();
        masked[size_t(c)] = mask[c].item<float>() > 0.f;
    }
    // score[j][c] over rows [t0, t1)
    auto batchScores = [&](int64_t t0, int64_t t1) {
        std::vector<std::vector<double>> sc(ratios.size(), std::vector<double>(size_t(K), 0.0));
        for (size_t j = 0; j < ratios.size(); ++j) {
            double cosSum = 0.0;
            for (int64_t t = t0; t < t1; ++t) {
                double dot = 0.0, nx = 0.0, nh = 0.0;
                for (int64_t c = 0; c < K; ++c) {
                    const double v = px[t * K + c];
                    // alpha0 * r is a float32 product in the solver; the hand value rounds it too.
                    const double a = double(float(a0v[size_t(c)] * ratios[j]));
                    const double s = a / qmax;
                    double q = std::nearbyint(v / s);
                    q = std::min(qmax, std::max(-qmax, q)) * s;
                    q = std::min(a, std::max(-a, q));
                    const bool compensated = masked[size_t(c)] && std::fabs(v) > dabc.rho * a;
                    const double h = compensated ? v : q;
                    sc[j][size_t(c)] += std::pow(std::fabs(v - h), st.p);
                    dot += v * h;
                    nx += v * v;
                    nh += h * h;
                }
                cosSum += dot / std::max(std::sqrt(nx) * std::sqrt(nh), 1e-8);
            }
            const double n = double(t1 - t0);
            const double lcos = 1.0 - cosSum / n;
            for (int64_t c = 0; c < K; ++c)
                sc[j][size_t(c)] = sc[j][size_t(c)] / n + st.lambdaCos * lcos;
        }
        return sc;
    };
    const auto s1 = batchScores(0, 512), s2 = batchScores(512, 1024);
    std::set<size_t> chosen;
    int differFromShared = 0;
    // The ratio a single shared choice would take (the sum over channels): each channel may
    // differ from it, which is the point of a per-channel search.
    size_t shared = 0;
    double sharedBest = std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < ratios.size(); ++j) {
        double sum = 0.0;
        for (int64_t c = 0; c < K; ++c)
            sum += 0.9 * s1[j][size_t(c)] + 0.1 * s2[j][size_t(c)];
        if (sum < sharedBest) {
            sharedBest = sum;
            shared = j;
        }
    }
    for (int64_t c = 0; c < K; ++c) {
        std::vector<double> ema(ratios.size());
        double best = std::numeric_limits<double>::infinity();
        for (size_t j = 0; j < ratios.size(); ++j) {
            ema[j] = 0.9 * s1[j][size_t(c)] + 0.1 * s2[j][size_t(c)];
            best = std::min(best, ema[j]);
        }
        const double ratio = double(r.alpha[size_t(c)]) / a0v[size_t(c)];
        size_t j = ratios.size();
        for (size_t i = 0; i < ratios.size(); ++i)
            if (std::fabs(ratio - ratios[i]) <= 1e-6 * ratios[i])
                j = i;
        QVERIFY2(j < ratios.size(), qPrintable(QStringLiteral("channel %1: ratio %2 is off the grid").arg(c).arg(ratio)));
        // The chosen ratio scores the best by hand, to 1e-5 relative: the solver scores in
        // float32 (sums of 512 terms, about 1e-6 relative), so near-ties may go either way.
        QVERIFY2(ema[j] <= best * (1.0 + 1e-5),
                 qPrintable(QStringLiteral("channel %1: ratio %2 scores %3, the best ratio %4")
                                .arg(c)
                                .arg(ratios[j])
                                .arg(ema[j], 0, 'g', 10)
                                .arg(best, 0, 'g', 10)));
        chosen.insert(j);
        differFromShared += j != shared;
    }
    QVERIFY2(chosen.size() >= 2, "every channel took the same ratio: nothing per-channel was tested");
    QVERIFY(differFromShared > 0);
}

void TestDabcMdqfo::adamSolver()
{
    const at::Tensor x = heavyTailed(2048);
    const at::Tensor alpha0 = x.abs().amax(0);
    const at::Tensor mask = at::zeros({16});
    const DabcSettings dabc = explicitSettings(2.0, true, true, {});
    const MdqfoSettings st = mdqfoSettings(MdqfoSolver::Adam);
    const MdqfoResult r = optimizeClipping(x, alpha0, mask, 4, dabc, st);
    QCOMPARE(int(r.curve.size()), st.adamSteps + 1);
    for (size_t i = 0; i < r.curve.size(); ++i)
        QCOMPARE(r.curve[i].step, int(i));
    QVERIFY2(r.curve.back().total < r.curve.front().total,
             qPrintable(QStringLiteral("%1 -> %2").arg(r.curve.front().total).arg(r.curve.back().total)));
    // Step 0 as in gridSearch (1e-9 relative, same computation).
    const MorphologyLoss l0 = morphologyLoss(x, alpha0, mask, 4, dabc, st);
    VERIFY_REL(r.curve.front().total, l0.total, 1e-9);
    QCOMPARE(r.alpha.size(), size_t(16));
    for (float a : r.alpha)
        QVERIFY(std::isfinite(a) && a > 0.0f);
}

void TestDabcMdqfo::cancelled_data()
{
    QTest::addColumn<int>("solver");
    QTest::newRow("grid") << int(MdqfoSolver::GridSearch);
    QTest::newRow("adam") << int(MdqfoSolver::Adam);
}

void TestDabcMdqfo::cancelled()
{
    QFETCH(int, solver);
    const at::Tensor x = heavyTailed(1024);
    const at::Tensor alpha0 = x.abs().amax(0);
    CancelToken token;
    token.cancel();
    QVERIFY_THROWS_EXCEPTION(Cancelled, optimizeClipping(x, alpha0, at::zeros({16}), 4,
                                                         explicitSettings(2.0, true, true, {}),
                                                         mdqfoSettings(MdqfoSolver(solver)), &token));
    // A token that was not cancelled lets it run.
    CancelToken idle;
    MdqfoSettings st = mdqfoSettings(MdqfoSolver(solver));
    st.adamSteps = 2;
    const MdqfoResult r = optimizeClipping(x, alpha0, at::zeros({16}), 4, explicitSettings(2.0, true, true, {}), st,
                                           &idle);
    QVERIFY(!r.curve.empty());
}

void TestDabcMdqfo::badArguments()
{
    const at::Tensor x = heavyTailed(64);
    const at::Tensor alpha0 = x.abs().amax(0);
    const DabcSettings dabc = explicitSettings(2.0, true, true, {});
    const MdqfoSettings st = mdqfoSettings(MdqfoSolver::GridSearch);
    QVERIFY_THROWS_EXCEPTION(InputError, optimizeClipping(x, alpha0, at::zeros({16}), 1, dabc, st));
    QVERIFY_THROWS_EXCEPTION(InputError, optimizeClipping(x, alpha0, at::zeros({16}), 9, dabc, st));
    QVERIFY_THROWS_EXCEPTION(Error, optimizeClipping(x, alpha0.narrow(0, 0, 15), at::zeros({16}), 4, dabc, st));
    QVERIFY_THROWS_EXCEPTION(Error, optimizeClipping(x, alpha0, at::zeros({15}), 4, dabc, st));
    QVERIFY_THROWS_EXCEPTION(Error, optimizeClipping(x.flatten(), alpha0, at::zeros({16}), 4, dabc, st));
}

void TestDabcMdqfo::fusedGridScoresMatchComposition_data()
{
    QTest::addColumn<double>("p");
    QTest::addColumn<double>("rho");
    QTest::newRow("p2 rho0") << 2.0 << 0.0;
    QTest::newRow("p0.5 rho0") << 0.5 << 0.0;
    QTest::newRow("p3 rho0.5") << 3.0 << 0.5;
}

void TestDabcMdqfo::fusedGridScoresMatchComposition()
{
    // The fused CPU kernel must score exactly what the documented composition scores:
    // mean_t |x - x_hat|^p per channel + lambda (1 - mean_t cos), x_hat = compensatedInput(
    // x, fakeQuantPerChannel(x, r alpha0), mask, r alpha0, rho).
    QFETCH(double, p);
    QFETCH(double, rho);
    at::manual_seed(7);
    at::Tensor x = at::randn({300, 24});
    x.select(1, 3).mul_(8.0); // an outlier channel
    at::Tensor alpha0 = x.abs().amax(0);
    at::Tensor mask = at::zeros({24});
    mask[3] = 1.0;
    mask[10] = 1.0;
    MdqfoSettings st;
    st.p = p;
    st.lambdaCos = 0.7;
    const std::vector<double> ratios{0.6, 0.75, 0.9, 1.0};
    at::Tensor fused = gridScoresCpu(x, alpha0, mask, ratios, 4, rho, st);
    QCOMPARE(fused.sizes().vec(), (std::vector<int64_t>{4, 24}));
    for (size_t j = 0; j < ratios.size(); ++j) {
        at::Tensor a = alpha0 * ratios[j];
        at::Tensor xh = compensatedInput(x, fakeQuantPerChannel(x, a, 4), mask, a, rho);
        at::Tensor lp = (x - xh).abs().pow(p).mean(0);
        const double lc = 1.0 - at::cosine_similarity(x, xh, 1, 1e-8).mean().item<double>();
        at::Tensor want = lp + st.lambdaCos * lc;
        // float32 reference vs double accumulation in the kernel over 300 rows: 1e-4 relative
        // (plus 1e-6 absolute for channels whose error is ~0) covers summation order only.
        QVERIFY2(at::allclose(fused[int64_t(j)], want, 1e-4, 1e-6),
                 qPrintable(QStringLiteral("ratio %1: max diff %2").arg(ratios[j])
                                .arg((fused[int64_t(j)] - want).abs().max().item<double>())));
    }
}

QTEST_APPLESS_MAIN(TestDabcMdqfo)
#include "tst_dabc_mdqfo.moc"
