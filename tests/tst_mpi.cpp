// Data parallelism over MPI (core/common/dist.h): `mpirun -n 2 morphoquant-cli ...` against the
// same command in one process, on stories260K and on the tiny Qwen2.5-Omni manifest. Extrema,
// counts and histograms must be equal exactly; sums of |x| and x^2 to 1e-12 relative (the two
// ranks' partial sums are added in another order than one process adds them: float64 rounding,
// far inside the 1e-6 the issue allows); the plan (masks, MDQFO bounds) identical, since the row
// samples are gathered in the single process's order; evaluation figures to 1e-12 relative
// (float64 sums in another order). A failing or killed rank ends the job and nothing is written.
#include "test_util.h"

#include <QProcess>

#include "io/session_store.h"
#include "model/tiny_omni.h"

#include <QtTest/QtTest>

#include <unistd.h>

using namespace mq::core;

namespace {

struct Run {
    int code = -1;
    QString out, err;
};

QString cli() { return QString::fromStdString(mq::test::binDir()) + "/morphoquant-cli"; }
QString stories() { return QString::fromStdString(mq::test::storiesDir()); }

// `mpirun -n ranks morphoquant-cli args` (ranks 0: the CLI alone, no launcher at all).
Run run(int ranks, const QStringList& args, const QStringList& env = {})
{
    QProcess p;
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    // Containers often refuse the shared-memory transport's cross-process copy; plain copies
    // work everywhere.
    e.insert("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    for (const QString& kv : env)
        e.insert(kv.section('=', 0, 0), kv.section('=', 1));
    p.setProcessEnvironment(e);
    QStringList argv;
    QString program = cli();
    if (ranks > 0) {
        program = MQ_MPIEXEC;
        argv << "--oversubscribe";
        if (::getuid() == 0)
            argv << "--allow-run-as-root";
        argv << "-n" << QString::number(ranks) << cli();
    }
    argv << args;
    // One thread per process on both sides: some kernels (the encoders' convolutions) reduce in
    // another order with another thread count, which is not what is under test here.
    if (args.front() != "make-tiny-omni")
        argv << "--threads" << "1";
    p.start(program, argv);
    p.waitForFinished(600000);
    Run r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

bool close(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + 1e-300; }

// Statistics of two sessions: same groups; per group and modality equal counts, extrema and
// histograms, sums to 1e-12 relative.
void compareStats(const Session& a, const Session& b)
{
    QCOMPARE(a.groups, b.groups);
    QCOMPARE(a.calibration.tokens, b.calibration.tokens);
    for (const std::string& g : a.groups) {
        const InputStats& x = a.stats.at(g);
        const InputStats& y = b.stats.at(g);
        for (int m = 0; m <= kNumModalities; ++m) {
            const ChannelStats& s = m < kNumModalities ? x.perModality[size_t(m)] : x.pooled;
            const ChannelStats& t = m < kNumModalities ? y.perModality[size_t(m)] : y.pooled;
            QVERIFY2(s.count == t.count, g.c_str());
            QVERIFY2(s.channels == t.channels || (s.count == 0 && t.count == 0), g.c_str());
            if (s.count == 0)
                continue;
            QVERIFY2(s.min == t.min, g.c_str());
            QVERIFY2(s.max == t.max, g.c_str());
            QVERIFY2(s.hist == t.hist, g.c_str());
            for (size_t c = 0; c < s.sumAbs.size(); ++c) {
                QVERIFY2(close(s.sumAbs[c], t.sumAbs[c], 1e-12), g.c_str());
                QVERIFY2(close(s.sumSq[c], t.sumSq[c], 1e-12), g.c_str());
            }
        }
    }
}

// Plans of two sessions: the same masks and bounds, bit for bit.
void comparePlans(const Session& a, const Session& b)
{
    QCOMPARE(a.plans.size(), b.plans.size());
    for (const auto& [g, p] : a.plans) {
        const GroupPlan& q = b.plans.at(g);
        QVERIFY2(p.mask == q.mask, g.c_str());
        QVERIFY2(p.alpha == q.alpha, g.c_str());
        QVERIFY2(p.alpha0 == q.alpha0, g.c_str());
        QVERIFY2(p.tokenClip == q.tokenClip, g.c_str());
    }
    QCOMPARE(a.curves.size(), b.curves.size());
}

const EvalResult& quantizedEval(const Session& s)
{
    for (const EvalResult& e : s.evals)
        if (e.label != "full precision")
            return e;
    throw std::runtime_error("no quantized result");
}

} // namespace

class TestMpi : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    QString path(const QString& name) const { return m_tmp.filePath(name); }

private slots:
    void calibrateQuantizeEvalMatchOneProcess()
    {
        const QStringList common{"--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method",
                                 "morphoquant", "--wbits", "4", "--abits", "4", "--eval",
                                 stories() + "/evaluation.jsonl", "--quiet"};
        const Run one = run(0, QStringList{"quantize"} << common << "--session" << path("one.mqs"));
        QVERIFY2(one.code == 0, qPrintable(one.err));
        const Run two = run(2, QStringList{"quantize"} << common << "--session" << path("two.mqs"));
        QVERIFY2(two.code == 0, qPrintable(two.err + two.out));
        // Rank 0 alone reports: the summary appears once.
        QCOMPARE(two.out.count("session      "), 1);
        const Session a = loadSession(path("one.mqs").toStdString());
        const Session b = loadSession(path("two.mqs").toStdString());
        compareStats(a, b);
        comparePlans(a, b);
        const EvalResult& ea = quantizedEval(a);
        const EvalResult& eb = quantizedEval(b);
        QCOMPARE(ea.tokens, eb.tokens);
        QVERIFY2(close(ea.nll, eb.nll, 1e-12), qPrintable(QString("%1 vs %2").arg(ea.nll, 0, 'g', 17).arg(eb.nll, 0, 'g', 17)));
        QVERIFY(close(ea.kl, eb.kl, 1e-12));
        // The layer errors are measured on the same first batches on every rank.
        QCOMPARE(a.errors.size(), b.errors.size());
        for (size_t i = 0; i < a.errors.size(); ++i)
            QCOMPARE(a.errors[i].pooled.sqnrDb, b.errors[i].pooled.sqnrDb);
    }

    // GPTQ's Hessians are summed across ranks: float64 partial sums in another order, so the
    // rounded weights may differ where a value sits on a rounding boundary; the perplexity agrees
    // to 1e-4 relative (measured: equal to 1e-9 on stories260K). Three ranks with an uneven split
    // (64 sequences in 8-sequence batches: 3, 3 and 2 batches).
    void gptqAndUnevenSplit()
    {
        const QStringList common{"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl",
                                 "--method", "rtn", "--wbits", "4", "--abits", "8", "--gptq", "--eval",
                                 stories() + "/evaluation.jsonl", "--quiet"};
        const Run one = run(0, QStringList(common) << "--session" << path("g1.mqs"));
        QVERIFY2(one.code == 0, qPrintable(one.err));
        const Run three = run(3, QStringList(common) << "--session" << path("g3.mqs"));
        QVERIFY2(three.code == 0, qPrintable(three.err + three.out));
        const Session a = loadSession(path("g1.mqs").toStdString());
        const Session b = loadSession(path("g3.mqs").toStdString());
        compareStats(a, b);
        QCOMPARE(a.weights.size(), b.weights.size());
        // Each Linear's GPTQ ran on one rank, round robin by module index: of stories260K's 35
        // (5 layers x 7), rank 0 took indices 0, 3, ..., 33, i.e. 12; the others sent it theirs.
        QVERIFY2(three.err.contains("rank 0 ran GPTQ for 12 of 35 Linears"), qPrintable(three.err));
        QCOMPARE(a.weights.size(), size_t(35));
        for (const auto& [name, sw] : b.weights) {
            const StoredWeight& want = a.weights.at(name);
            QCOMPARE(sw.rows, want.rows);
            QCOMPARE(sw.cols, want.cols);
            QCOMPARE(sw.format, want.format);
            QCOMPARE(sw.codes.size(), want.codes.size());
            QCOMPARE(sw.scales.size(), want.scales.size());
            // Received or computed, the codes are GPTQ's on nearly the same Hessian. Allowed: 1%
            // differ (float64 sums in another order can move a rounding boundary, and an error
            // then spreads along the row); measured on stories260K: none.
            size_t differ = 0;
            for (size_t i = 0; i < sw.codes.size(); ++i)
                differ += sw.codes[i] != want.codes[i];
            QVERIFY2(differ * 100 <= sw.codes.size(), qPrintable(QString::fromStdString(name)));
        }
        QVERIFY(close(quantizedEval(a).nll, quantizedEval(b).nll, 1e-4));
    }

    // The manifest: encoder groups one rank never sees take their width from the other; the
    // encoders quantized too give the same plan.
    void omniManifestMatchesOneProcess()
    {
        const QString model = path("tiny-omni");
        writeTinyOmni(model.toStdString(), 3);
        const QString manifest = QString(MQ_TEST_DATA_DIR) + "/manifest/mixed.jsonl";
        const QStringList common{"quantize", "--model", model, "--manifest", manifest, "--method", "morphoquant",
                                 "--wbits", "4", "--abits", "4", "--quantize-encoders", "--eval-manifest",
                                 manifest, "--quiet"};
        const Run one = run(0, QStringList(common) << "--session" << path("o1.mqs"));
        QVERIFY2(one.code == 0, qPrintable(one.err));
        const Run two = run(2, QStringList(common) << "--session" << path("o2.mqs"));
        QVERIFY2(two.code == 0, qPrintable(two.err + two.out));
        const Session a = loadSession(path("o1.mqs").toStdString());
        const Session b = loadSession(path("o2.mqs").toStdString());
        compareStats(a, b);
        comparePlans(a, b);
        const EvalResult& ea = quantizedEval(a);
        const EvalResult& eb = quantizedEval(b);
        QVERIFY(close(ea.kl, eb.kl, 1e-12));
        for (int m = 0; m < kNumModalities; ++m) {
            QCOMPARE(ea.tokensByModality[size_t(m)], eb.tokensByModality[size_t(m)]);
            QVERIFY(close(ea.klByModality[size_t(m)], eb.klByModality[size_t(m)], 1e-12));
        }
        QCOMPARE(ea.encoders.size(), eb.encoders.size());
    }

    // A rank that fails (an error) or dies (SIGKILL) ends the whole job; no session is written.
    void failingRankEndsTheJob()
    {
        const QStringList args{"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl",
                               "--method", "morphoquant", "--wbits", "4", "--abits", "4", "--quiet", "--session"};
        const Run failed = run(2, QStringList(args) << path("failed.mqs"),
                               {"MQ_TEST_FAIL_RANK=1", "MQ_TEST_FAIL_AT=plan"});
        QVERIFY(failed.code != 0);
        QVERIFY2(failed.err.contains("injected failure at plan"), qPrintable(failed.err));
        QVERIFY2(failed.err.contains("rank 1 of 2 failed"), qPrintable(failed.err));
        QVERIFY(!QFileInfo::exists(path("failed.mqs")));
        const Run killed = run(2, QStringList(args) << path("killed.mqs"),
                               {"MQ_TEST_KILL_RANK=1", "MQ_TEST_KILL_AT=plan"});
        QVERIFY(killed.code != 0);
        QVERIFY(!QFileInfo::exists(path("killed.mqs")));
    }

    // Commands that do not split their work refuse to run as several ranks.
    void otherCommandsRefuseSeveralRanks()
    {
        const Run r = run(2, {"make-tiny-omni", path("twice")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("only calibrate, quantize, eval and sweep"), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(path("twice")));
    }
};

QTEST_APPLESS_MAIN(TestMpi)
#include "tst_mpi.moc"
