// morphoquant-cli end to end on the really trained stories260K: full-precision eval, W4A4 RTN
// and MorphoQuant with session and export, reload of the export, inspect, and bad input; and the
// launcher (morphoquant-cli) answering help and usage errors without the engine or libtorch.
#include "test_util.h"

#include "export/check_export.h"
#include "export/hf_export.h"
#include "io/session_store.h"

#include <random>
#include <set>

#include <signal.h>

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

using nlohmann::json;

namespace {

struct Run {
    int code = -1;
    QString out, err;
    json last; // last stdout line parsed as JSON (null if it is not JSON)
};

// Runs `program` (default: the launcher, morphoquant-cli); env: extra environment variables.
Run cli(const QStringList& args, int timeoutMs = 300000, const QString& program = "morphoquant-cli",
        const QMap<QString, QString>& env = {})
{
    QProcess p;
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.remove("MQ_CLI_ENGINE");
    for (auto it = env.begin(); it != env.end(); ++it)
        e.insert(it.key(), it.value());
    p.setProcessEnvironment(e);
    p.start(program.startsWith('/') ? program : QString::fromStdString(mq::test::binDir()) + "/" + program, args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    const QStringList lines = r.out.trimmed().split('\n');
    if (!lines.isEmpty())
        r.last = json::parse(lines.last().toStdString(), nullptr, false);
    return r;
}

QString stories() { return QString::fromStdString(mq::test::storiesDir()); }

// The launcher with an engine that cannot start: whatever it answers, it answered alone.
const QMap<QString, QString> kNoEngine{{"MQ_CLI_ENGINE", "/nonexistent/engine"}};

// End-to-end figures of the GPTQ-free plans on stories260K are pinned to their measured values
// (README.md and bench/README.md list the same to 4 decimals) within 2e-3 relative. The plans are
// deterministic on one build (round to nearest and the MDQFO grid; RTN's figure is the same to
// the last bit with --threads 1 and 2); the margin is for float32 sums in another order on another
// BLAS build or kernel, which can also move an MDQFO grid choice or a rounding at a tie.
constexpr double kFigureTolerance = 2e-3;
// Figures of MDQFO-planned recipes move further: a static 4-bit grid choice flips at float32
// rounding. Measured on one machine over OpenBLAS's SSE3, AVX2 and AVX-512 kernels and both
// attention implementations (fused CPU kernel, LibTorch operations): MorphoQuant W4A4 ppl
// 6.921-7.036 and KL 0.662-0.671 (1.7% and 1.3%): 2.5e-2 relative leaves half that again.
constexpr double kPlanFigureTolerance = 2.5e-2;

// Whether actual is within tolerance of expected, relative to it.
bool pinned(double actual, double expected, double tolerance = kFigureTolerance)
{
    return std::fabs(actual / expected - 1.0) <= tolerance;
}

QString measured(const char* what, double actual, double expected, double tolerance = kFigureTolerance)
{
    return QString("%1 %2, pinned to %3 within %4 relative")
        .arg(what)
        .arg(actual, 0, 'g', 10)
        .arg(expected)
        .arg(tolerance);
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    double m_rtnPpl = 0, m_mqPpl = 0;

private slots:
    void evalFullPrecision()
    {
        Run r = cli({"eval", "--model", stories(), "--data", stories() + "/evaluation.jsonl", "--json", "--threads", "1"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.last.is_object(), qPrintable(r.out));
        QCOMPARE(r.last["tokens"].get<int64_t>(), int64_t(16384));
        // The model README's reference, to the issue's 1e-4.
        QVERIFY(std::fabs(r.last["nll"].get<double>() - 1.278281) < 1e-4);
        QVERIFY(r.err.contains("ETA")); // progress with ETA on stderr
    }

    void evalSmallModelWithoutEngine()
    {
        // eval of a small full-precision model runs in the launcher (core/eval/plain_eval.h):
        // with an engine that cannot start it still answers, and the engine's own run
        // (MQ_PLAIN_EVAL=0) gives the same figures to float32 rounding (tst_forward's bound).
        const QStringList args{"eval", "--model", stories(), "--data", stories() + "/evaluation.jsonl", "--json",
                               "--quiet", "--threads", "2"};
        Run plain = cli(args, 300000, "morphoquant-cli", kNoEngine);
        QVERIFY2(plain.code == 0, qPrintable(plain.err));
        QCOMPARE(QString::fromStdString(plain.last["runner"].get<std::string>()), QString("plain"));
        QCOMPARE(plain.last["tokens"].get<int64_t>(), int64_t(16384));
        Run engine = cli(args, 300000, "morphoquant-cli", {{"MQ_PLAIN_EVAL", "0"}});
        QVERIFY2(engine.code == 0, qPrintable(engine.err));
        QCOMPARE(QString::fromStdString(engine.last["runner"].get<std::string>()), QString("engine"));
        const double a = plain.last["nll"].get<double>(), b = engine.last["nll"].get<double>();
        QVERIFY2(std::fabs(a - b) <= 1e-6 * b, qPrintable(QString("%1 vs %2").arg(a, 0, 'g', 17).arg(b, 0, 'g', 17)));
        for (const char* key : {"command", "model", "data", "label", "quantized", "tokens"})
            QCOMPARE(plain.last[key], engine.last[key]);
        // What it does not take goes to the engine; MQ_PLAIN_EVAL=1 says why.
        QMap<QString, QString> explain = kNoEngine;
        explain["MQ_PLAIN_EVAL"] = "1";
        Run budget = cli(args + QStringList{"--mem-budget", "1G"}, 300000, "morphoquant-cli", explain);
        QCOMPARE(budget.code, 1);
        QVERIFY2(budget.err.contains("the engine runs this evaluation: --mem-budget"), qPrintable(budget.err));
        QVERIFY2(budget.err.contains("cannot start the engine"), qPrintable(budget.err));
    }

    void quantizeRtn()
    {
        Run r = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method", "rtn",
                     "--wbits", "4", "--abits", "4", "--eval", stories() + "/evaluation.jsonl", "--json",
                     "--session", m_tmp.filePath("rtn.mqs"), "--export", m_tmp.filePath("rtn-export")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        m_rtnPpl = r.last["ppl"].get<double>();
        QVERIFY(m_rtnPpl > 3.5905); // 4-bit costs something over full precision
        // Measured 6.224506 (NLL 1.828494) and KL 0.560527; kFigureTolerance says why 2e-3.
        QVERIFY2(pinned(m_rtnPpl, 6.224506), qPrintable(measured("ppl", m_rtnPpl, 6.224506)));
        QVERIFY2(pinned(r.last["kl"].get<double>(), 0.560527),
                 qPrintable(measured("KL", r.last["kl"].get<double>(), 0.560527)));
        QVERIFY(QFile::exists(m_tmp.filePath("rtn-export/model.safetensors")));
    }

    void quantizeMorphoQuant()
    {
        Run r = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method",
                     "morphoquant", "--wbits", "4", "--abits", "4", "--eval", stories() + "/evaluation.jsonl",
                     "--eval-fp", "--json", "--session", m_tmp.filePath("mq.mqs"), "--export",
                     m_tmp.filePath("mq-export")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        m_mqPpl = r.last["ppl"].get<double>();
        QVERIFY(std::fabs(r.last["fp"]["nll"].get<double>() - 1.278281) < 1e-4);
        QVERIFY(r.last["mdqfo_loss_final"].get<double>() < r.last["mdqfo_loss_initial"].get<double>());
        QVERIFY(r.last["dabc_masked_channels"].get<int64_t>() > 0);
        QVERIFY(m_mqPpl > 3.5905);
        // Measured 6.921372 (NLL 1.934614) and KL 0.662431; kPlanFigureTolerance says why 2.5e-2.
        const double tol = kPlanFigureTolerance;
        QVERIFY2(pinned(m_mqPpl, 6.921372, tol), qPrintable(measured("ppl", m_mqPpl, 6.921372, tol)));
        QVERIFY2(pinned(r.last["kl"].get<double>(), 0.662431, tol),
                 qPrintable(measured("KL", r.last["kl"].get<double>(), 0.662431, tol)));
        // 51 of the 1820 input channels compensated, exactly: a channel changes sides only when
        // its dispersion score lies within float rounding of a threshold or of the cap's cut.
        QCOMPARE(r.last["dabc_masked_channels"].get<int64_t>(), int64_t(51));
        QCOMPARE(r.last["dabc_total_channels"].get<int64_t>(), int64_t(1820));
        // The default stays within its budget: at most 4.5 effective activation bits per element.
        QVERIFY2(r.last["act_bits_effective"].get<double>() <= 4.5, qPrintable(r.out));
        QCOMPARE(r.last["mode"].get<std::string>(), std::string("simulated"));

        // The authors' preset keeps every down_proj input compensated: it beats RTN W4A4 at the
        // price an independent count gave (9.8 bits per element, 7.0 per multiply-add, 25% more
        // multiply-adds; those figures are rounded to 0.1 and 1%, hence the tolerances).
        Run a = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method",
                     "morphoquant", "--wbits", "4", "--abits", "4", "--eval", stories() + "/evaluation.jsonl",
                     "--preset", "authors", "--json", "--quiet"});
        QVERIFY2(a.code == 0, qPrintable(a.err));
        QVERIFY2(a.last["ppl"].get<double>() < m_rtnPpl, qPrintable(a.out));
        // Measured 4.618515 (NLL 1.530073) and KL 0.248998; an MDQFO plan: kPlanFigureTolerance.
        QVERIFY2(pinned(a.last["ppl"].get<double>(), 4.618515, tol),
                 qPrintable(measured("ppl", a.last["ppl"].get<double>(), 4.618515, tol)));
        QVERIFY2(pinned(a.last["kl"].get<double>(), 0.248998, tol),
                 qPrintable(measured("KL", a.last["kl"].get<double>(), 0.248998, tol)));
        QVERIFY(std::fabs(a.last["act_bits_effective"].get<double>() - 9.8) < 0.05);
        QVERIFY(std::fabs(a.last["act_bits_effective_mac"].get<double>() - 7.0) < 0.05);
        QVERIFY(std::fabs(a.last["dabc_extra_macs"].get<double>() - 0.25) < 0.005);
        QCOMPARE(a.last["dabc_masked_channels"].get<int64_t>() >= 860, true); // every down_proj input
    }

    // Issue 13, item 6: the DABC and MDQFO options of one quantize run reach the session it saves
    // (inspect --json prints its settings) and the plan built with them. --force-mask o_proj with
    // --no-local --no-global and --dabc-max-share 1 compensates every o_proj input channel and
    // no other; --mdqfo-tokens 256 leaves the grid one search batch (512 rows) per group; --rho
    // makes the activation cost an upper bound; --group-size and --asym name the weights; --batch
    // is the calibration's. A second run with --no-dabc --no-mdqfo keeps no mask and no loss
    // curve, and its settings (the defaults) differ from each value the first run was given.
    void optionsReachTheSession()
    {
        const QString session = m_tmp.filePath("options.mqs"), plain = m_tmp.filePath("no-dabc.mqs");
        const QStringList base{"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method",
                               "morphoquant", "--wbits", "4", "--abits", "4", "--json", "--quiet"};
        // --group-size 4: stories260K's down_proj inputs are 172 = 4 * 43 wide.
        Run q = cli(base + QStringList{"--k", "1.5", "--no-local", "--no-global", "--score", "paper", "--rho", "0.5",
                                       "--force-mask", "o_proj", "--dabc-max-share", "1", "--any-modality", "--solver",
                                       "grid", "--p", "2.5", "--lambda-cos", "0.5", "--ratios", "7", "--adam-steps",
                                       "9", "--mdqfo-tokens", "256", "--group-size", "4", "--asym", "--batch", "4",
                                       "--session", session});
        QVERIFY2(q.code == 0, qPrintable(q.err));
        Run n = cli(base + QStringList{"--no-dabc", "--no-mdqfo", "--session", plain});
        QVERIFY2(n.code == 0, qPrintable(n.err));
        Run i = cli({"inspect", session, "--json"}), ni = cli({"inspect", plain, "--json"});
        QVERIFY2(i.code == 0 && ni.code == 0, qPrintable(i.err + ni.err));

        // Each value given, in the saved settings; the run without those options has another.
        const std::pair<const char*, json> given[] = {
            {"/dabc/k", 1.5},          {"/dabc/use_local", false},   {"/dabc/use_global", false},
            {"/dabc/form", "paper"},   {"/dabc/rho", 0.5},           {"/dabc/force_kinds", json::array({"o_proj"})},
            {"/dabc/max_share", 1.0},  {"/dabc/any_modality", true}, {"/dabc/enabled", true},
            {"/mdqfo/p", 2.5},         {"/mdqfo/lambda_cos", 0.5},   {"/mdqfo/ratios", 7},
            {"/mdqfo/adam_steps", 9},  {"/mdqfo/sample_rows", 256},  {"/mdqfo/enabled", true},
            {"/weight/group_size", 4}, {"/weight/symmetric", false}};
        for (const auto& [key, value] : given) {
            const json::json_pointer at(key);
            const json& saved = i.last["settings"].at(at);
            QVERIFY2(saved == value, qPrintable(QString("%1: %2, given %3")
                                                    .arg(key, QString::fromStdString(saved.dump()),
                                                         QString::fromStdString(value.dump()))));
            QVERIFY2(ni.last["settings"].at(at) != value, key);
        }
        QCOMPARE(i.last["settings"]["mdqfo"]["solver"].get<std::string>(), std::string("grid"));
        QCOMPARE(i.last["calibration"]["batch_size"].get<int>(), 4);
        QCOMPARE(ni.last["calibration"]["batch_size"].get<int>(), 8);
        QVERIFY2(i.last["label"].get<std::string>().find("int4-asym-g4") != std::string::npos, qPrintable(i.out));
        QVERIFY(i.last["act_bits_upper_bound"].get<bool>());
        QVERIFY(!ni.last["act_bits_upper_bound"].get<bool>());

        // The plan: masks exactly on the o_proj inputs, one grid step on each group.
        std::set<std::string> oProjInputs;
        for (const json& m : i.last["modules"])
            if (m["kind"] == "o_proj")
                oProjInputs.insert(m["input_group"].get<std::string>());
        QCOMPARE(int(oProjInputs.size()), 5); // one per layer
        int64_t masked = 0;
        for (const json& g : i.last["groups"]) {
            const std::string name = g["name"].get<std::string>();
            const int64_t k = g["channels"].get<int64_t>();
            QCOMPARE(g["masked_channels"].get<int64_t>(), oProjInputs.count(name) ? k : int64_t(0));
            masked += g["masked_channels"].get<int64_t>();
            // Without --mdqfo-tokens the grid would search every one of the group's rows, 512 a step.
            QVERIFY(g["tokens"].get<int64_t>() > 512);
            QCOMPARE(g["mdqfo_steps"].get<int>(), 1);
        }
        QCOMPARE(q.last["dabc_masked_channels"].get<int64_t>(), masked);
        // --no-dabc --no-mdqfo: no channel compensated, no loss curve.
        QCOMPARE(ni.last["settings"]["dabc"]["enabled"].get<bool>(), false);
        QCOMPARE(ni.last["settings"]["mdqfo"]["enabled"].get<bool>(), false);
        QCOMPARE(ni.last["groups"].size(), i.last["groups"].size());
        for (const json& g : ni.last["groups"]) {
            QCOMPARE(g["masked_channels"].get<int64_t>(), int64_t(0));
            QVERIFY2(!g.contains("mdqfo_steps"), qPrintable(QString::fromStdString(g.dump())));
        }
        QCOMPARE(ni.last["dabc_extra_macs"].get<double>(), 0.0);
        QCOMPARE(n.last["dabc_masked_channels"].get<int64_t>(), int64_t(0));
        QCOMPARE(n.last["mdqfo_loss_initial"].get<double>(), 0.0); // summed over no curve
    }

    // --solver adam end to end: the layer-wise plan runs under c10::InferenceMode, and MDQFO's
    // Adam switches autograd back on for itself (it once failed every real run with "element 0
    // of tensors does not require grad"; tst_dabc_mdqfo's adamSolver ran outside the mode). The
    // session records the solver and each group's curve has --adam-steps steps.
    void adamSolverEndToEnd()
    {
        const QString session = m_tmp.filePath("adam.mqs");
        Run q = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method",
                     "morphoquant", "--wbits", "4", "--abits", "4", "--solver", "adam", "--adam-steps", "3",
                     "--mdqfo-tokens", "256", "--session", session, "--quiet"});
        QVERIFY2(q.code == 0, qPrintable(q.err));
        Run i = cli({"inspect", session, "--json"});
        QVERIFY2(i.code == 0, qPrintable(i.err));
        QCOMPARE(i.last["settings"]["mdqfo"]["solver"].get<std::string>(), std::string("adam"));
        for (const json& g : i.last["groups"])
            QCOMPARE(g["mdqfo_steps"].get<int>(), 3);
    }

    // Issue 10's targets for the true 4-bit presets on all 64 evaluation sequences, every
    // activation within 4.5 effective bits: w4a4-int-best at most 4.35 (measured 4.3363) and
    // w4a4-best (HiFloat4) at most RTN W4A16's 4.2095 (measured 4.0451). w4a4-int-best moves
    // with float32 rounding (a GPTQ or clip rounding flips): 4.332-4.358 over OpenBLAS's SSE3,
    // AVX2 and AVX-512 kernels and both attention implementations on one machine, so the bound
    // here is 4.37; issue 10's 4.35 holds with the SSE3 and AVX2 kernels, not with AVX-512 ones.
    void trueFourBitPresets_data()
    {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<double>("maxPpl");
        QTest::addColumn<QString>("rotation");
        QTest::newRow("w4a4-best") << "w4a4-best" << 4.2095 << "";
        QTest::newRow("w4a4-int-best") << "w4a4-int-best" << 4.37 << "hadamard-heads:0";
    }
    void trueFourBitPresets()
    {
        QFETCH(QString, preset);
        QFETCH(double, maxPpl);
        QFETCH(QString, rotation);
        Run r = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--preset", preset,
                     "--eval", stories() + "/evaluation.jsonl", "--json", "--quiet"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.last["ppl"].get<double>() <= maxPpl, qPrintable(r.out));
        QVERIFY2(r.last["act_bits_effective"].get<double>() <= 4.5, qPrintable(r.out));
        QCOMPARE(r.last["abits"].get<int>(), 4);
        QCOMPARE(r.last["dabc_extra_macs"].get<double>(), 0.0);
        QCOMPARE(r.last["gptq_linears"].get<int>(), 35); // every decoder Linear
        QCOMPARE(QString::fromStdString(r.last["rotation"].get<std::string>()), rotation);
        QVERIFY2(r.last["label"].get<std::string>().find("gptaq") != std::string::npos, qPrintable(r.out));
    }

    // A sweep runs each recipe as quantize would (its RTN row is quantizeRtn's perplexity, to
    // the last bit: the same computation), shares the calibration of recipes with one rotation,
    // and checks every recipe before running any (a bad one: exit 1 naming the file and recipe).
    void sweepRunsRecipes()
    {
        const QString file = m_tmp.filePath("recipes.json");
        writeBytes(file, R"([{"name": "rtn", "options": "--method rtn --wbits 4 --abits 4"},
            {"name": "rot gptq", "options": ["--method", "rtn", "--wbits", "4", "--abits", "4", "--rotate",
             "hadamard", "--gptq"]}])");
        const QStringList base{"sweep", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--eval",
                               stories() + "/evaluation.jsonl", "--quiet"};
        Run r = cli(base + QStringList{"--recipes", file, "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto& rows = r.last["recipes"];
        QCOMPARE(rows.size(), size_t(2));
        QCOMPARE(rows[0]["ppl"].get<double>(), m_rtnPpl);
        QVERIFY(rows[1]["ppl"].get<double>() < rows[0]["ppl"].get<double>());
        QVERIFY(rows[1]["label"].get<std::string>().find("gptq") != std::string::npos);
        QVERIFY(std::fabs(r.last["fp"]["nll"].get<double>() - 1.278281) < 1e-4);
        QVERIFY(r.out.contains("rot gptq"));
        // quantize --recipe: one recipe's options, the command line's over them.
        const QString one = m_tmp.filePath("one.json");
        writeBytes(one, R"({"name": "rtn", "options": "--method rtn --wbits 4 --abits 4"})");
        const QStringList qbase{"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--eval",
                                stories() + "/evaluation.jsonl", "--quiet", "--json", "--recipe", one};
        Run q = cli(qbase);
        QVERIFY2(q.code == 0, qPrintable(q.err));
        QCOMPARE(q.last["ppl"].get<double>(), m_rtnPpl);
        Run over = cli(qbase + QStringList{"--abits", "8"});
        QVERIFY2(over.code == 0, qPrintable(over.err));
        QCOMPARE(over.last["abits"].get<int>(), 8);
        QVERIFY(over.last["ppl"].get<double>() < m_rtnPpl);
        // Bad recipes, each refused before anything runs.
        const std::pair<QByteArray, QString> bad[] = {
            {R"([{"name": "x", "options": "--method rtn --wbits 4 --abits 4 --eval e.jsonl"}])",
             "recipe 1 ('x'): --eval is the sweep's to set"},
            {R"([{"name": "ok", "options": "--method rtn --wbits 4 --abits 4"}, {"name": "y", "options": "--wbits 4"}])",
             "recipe 2 ('y'): --method is required"},
            {R"([{"name": "z"}])", "recipe 1: expected an object"},
            {R"({"recipes": 3})", "expected a non-empty array"},
            {"[{", "not valid JSON"}};
        for (const auto& [text, needle] : bad) {
            writeBytes(file, text);
            Run b = cli(base + QStringList{"--recipes", file});
            QCOMPARE(b.code, 1);
            QVERIFY2(b.err.contains(needle) && b.err.contains(file), qPrintable(b.err));
            QVERIFY2(!b.out.contains("full precision"), qPrintable(b.out)); // nothing ran
        }
    }

    // The session records the export written with it; inspect says whether the folder still is
    // that export (issue 13): it matches, then changed, then missing.
    void inspectChecksTheExport()
    {
        const QString session = m_tmp.filePath("ex.mqs"), dir = m_tmp.filePath("ex-export");
        Run q = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method", "rtn",
                     "--wbits", "8", "--abits", "8", "--session", session, "--export", dir, "--quiet"});
        QVERIFY2(q.code == 0, qPrintable(q.err));
        auto state = [&] {
            Run i = cli({"inspect", session, "--json"});
            return i.code == 0 ? QString::fromStdString(i.last["export"]["state"].get<std::string>()) : i.err;
        };
        QCOMPARE(state(), QString("matches"));
        QFile cfg(dir + "/config.json");
        QVERIFY(cfg.open(QIODevice::Append));
        cfg.write("\n");
        cfg.close();
        QCOMPARE(state(), QString("changed"));
        QVERIFY(QDir(dir).removeRecursively());
        QCOMPARE(state(), QString("missing"));
        Run text = cli({"inspect", session});
        QVERIFY2(text.out.contains("MISSING"), qPrintable(text.out));
    }

    // quantize --export-format compressed-tensors: the folder passes check-export (printed), eval
    // --model reads it back from its packed tensors to the same figure, and check-export exits 1
    // on a folder that breaks a rule.
    void packedExportEndToEnd()
    {
        const QString dir = m_tmp.filePath("ct-export");
        Run q = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method", "rtn",
                     "--wbits", "4", "--abits", "16", "--eval", stories() + "/evaluation.jsonl", "--export", dir,
                     "--export-format", "compressed-tensors", "--json", "--quiet"});
        QVERIFY2(q.code == 0, qPrintable(q.err));
        QVERIFY2(q.out.contains("export check passes; vLLM scheme CompressedTensorsWNA16"), qPrintable(q.out));
        QCOMPARE(q.last["export_format"].get<std::string>(), std::string("compressed-tensors"));
        Run e = cli({"eval", "--model", dir, "--data", stories() + "/evaluation.jsonl", "--json", "--quiet"});
        QVERIFY2(e.code == 0, qPrintable(e.err));
        // The packed weights are the plan's bit for bit: equal figures (1e-9 relative).
        QVERIFY(std::fabs(e.last["ppl"].get<double>() - q.last["ppl"].get<double>()) <= 1e-9 * q.last["ppl"].get<double>());
        QVERIFY(e.last["quantized"].get<bool>());
        Run c = cli({"check-export", dir, "--json"});
        QCOMPARE(c.code, 0);
        QVERIFY(c.last["ok"].get<bool>());
        QCOMPARE(c.last["packed_linears"].get<int>(), 35);
        QVERIFY(c.out.contains("verdict      passes the loading rules"));
        // Break one rule: the scale of a Linear in another dtype than the model's.
        QFile cfg(dir + "/config.json");
        QVERIFY(cfg.open(QIODevice::ReadOnly));
        QByteArray text = cfg.readAll();
        cfg.close();
        text.replace("\"torch_dtype\": \"float32\"", "\"torch_dtype\": \"bfloat16\"");
        QVERIFY(cfg.open(QIODevice::WriteOnly | QIODevice::Truncate));
        cfg.write(text);
        cfg.close();
        Run bad = cli({"check-export", dir, "--json"});
        QCOMPARE(bad.code, 1);
        QVERIFY(!bad.last["ok"].get<bool>());
        QVERIFY2(bad.out.contains("weight_scale is F32") && bad.out.contains("expected BF16"), qPrintable(bad.out));
    }

    // Kill safety: a quantize that replaces a session and a packed export is killed at 20 random
    // points of its run (seeded); each time the session still loads, the export folder is
    // complete (check-export passes, eval's loader reads it), and inspect says whether the two
    // belong together ("matches", or "changed" when the kill fell between the export and the
    // session); a final complete run leaves no temporary file behind.
    void killedWritesLeaveConsistentFiles()
    {
        const QString session = m_tmp.filePath("kill.mqs"), dir = m_tmp.filePath("kill-export");
        const QStringList args{"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl",
                               "--method", "rtn", "--wbits", "8", "--abits", "8", "--session", session, "--export", dir,
                               "--export-format", "compressed-tensors", "--overwrite", "--quiet", "--threads", "1"};
        QElapsedTimer full;
        full.start();
        Run first = cli(args);
        QVERIFY2(first.code == 0, qPrintable(first.err));
        const qint64 fullMs = std::max<qint64>(200, full.elapsed());
        std::mt19937_64 rng(7);
        int killed = 0;
        for (int i = 0; i < 20; ++i) {
            QProcess p;
            p.start(QString::fromStdString(mq::test::binDir()) + "/morphoquant-cli", args);
            QVERIFY(p.waitForStarted());
            // Most kills late in the run, where the export and the session are written.
            const qint64 at = qint64(double(fullMs) * (0.5 + 0.6 * double(rng() % 1000) / 1000.0));
            if (!p.waitForFinished(int(at))) {
                ::kill(pid_t(p.processId()), SIGKILL);
                p.waitForFinished(10000);
                ++killed;
            }
            const QString where = QString("run %1, killed at %2 ms of %3").arg(i).arg(at).arg(fullMs);
            try {
                mq::core::loadSession(session.toStdString());
            } catch (const std::exception& e) {
                QFAIL(qPrintable(where + ": the session does not load: " + e.what()));
            }
            const mq::core::ExportCheck c = mq::core::checkExport(dir.toStdString());
            QVERIFY2(c.ok(), qPrintable(where + ": " + QString::fromStdString(c.errors.empty() ? "" : c.errors.front())));
            try {
                mq::core::loadModelForEval(dir.toStdString());
            } catch (const std::exception& e) {
                QFAIL(qPrintable(where + ": the export does not load: " + e.what()));
            }
            Run in = cli({"inspect", session, "--json"});
            QVERIFY2(in.code == 0, qPrintable(where + ": " + in.err));
            const std::string state = in.last["export"]["state"].get<std::string>();
            QVERIFY2(state == "matches" || state == "changed", qPrintable(where + ": export " + QString::fromStdString(state)));
        }
        QVERIFY2(killed >= 5, qPrintable(QString::number(killed))); // the kills did happen
        Run last = cli(args);
        QVERIFY2(last.code == 0, qPrintable(last.err));
        const QStringList left = QDir(m_tmp.path()).entryList(QStringList{"kill*.tmp-*", "kill*.old-*"},
                                                             QDir::Files | QDir::Dirs | QDir::Hidden);
        QVERIFY2(left.isEmpty(), qPrintable(left.join(", ")));
        Run in = cli({"inspect", session, "--json"});
        QCOMPARE(QString::fromStdString(in.last["export"]["state"].get<std::string>()), QString("matches"));
    }

    void exportNeverClobbersWithoutOverwrite()
    {
        const QString target = m_tmp.filePath("rtn-export/model.safetensors");
        const QByteArray before = [&] { QFile f(target); f.open(QIODevice::ReadOnly); return f.readAll(); }();
        Run r = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method", "rtn",
                     "--wbits", "8", "--abits", "8", "--export", m_tmp.filePath("rtn-export"), "--quiet"});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("already exists"), qPrintable(r.err));
        QFile f(target);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), before);
        // A session file likewise: refused before any work (quantize and calibrate), kept as it
        // was, replaced with --overwrite.
        const QString session = m_tmp.filePath("rtn.mqs");
        const QByteArray sessionBefore = [&] { QFile g(session); g.open(QIODevice::ReadOnly); return g.readAll(); }();
        QVERIFY(!sessionBefore.isEmpty());
        for (const QStringList& args :
             {QStringList{"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method",
                          "rtn", "--wbits", "8", "--abits", "8", "--session", session, "--quiet"},
              QStringList{"calibrate", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--session",
                          session, "--quiet"}}) {
            Run q = cli(args);
            QCOMPARE(q.code, 1);
            QVERIFY2(q.err.contains("already exists; --overwrite replaces it"), qPrintable(q.err));
            QFile g(session);
            QVERIFY(g.open(QIODevice::ReadOnly));
            QCOMPARE(g.readAll(), sessionBefore);
        }
        Run ok = cli({"calibrate", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--session",
                      session, "--overwrite", "--quiet"});
        QVERIFY2(ok.code == 0, qPrintable(ok.err));
    }

    void badInput_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("needle");
        QTest::newRow("missing model") << QStringList{"eval", "--model", "/nonexistent/model", "--data", "x"} << 1
                                       << "/nonexistent/model";
        QTest::newRow("missing data") << QStringList{"eval", "--model", stories(), "--data", "/nonexistent.jsonl"}
                                      << 1 << "/nonexistent.jsonl";
        QTest::newRow("unknown option") << QStringList{"eval", "--modle", "x"} << 2 << "--modle";
        QTest::newRow("bad method") << QStringList{"quantize", "--model", stories(), "--calib", "x", "--method", "gptq",
                                                   "--wbits", "4", "--abits", "4"}
                                    << 2 << "gptq";
        QTest::newRow("nf4 needs 4 bits") << QStringList{"quantize", "--model", stories(), "--calib", "x", "--method",
                                                         "rtn", "--wbits", "8", "--abits", "8", "--wformat", "nf4"}
                                          << 2 << "nf4";
        QTest::newRow("not a session") << QStringList{"inspect", stories() + "/config.json"} << 1 << "config.json";
        // Settings that depend on the model's shapes fail before the calibration, naming why.
        QTest::newRow("group size vs down_proj") << QStringList{"quantize", "--model", stories(), "--calib",
                                                               stories() + "/calibration.jsonl", "--method", "rtn",
                                                               "--wbits", "4", "--abits", "16", "--group-size", "32"}
                                                 << 1 << "does not divide model.layers.0.mlp.down_proj's 172 inputs";
        QTest::newRow("force-mask typo") << QStringList{"quantize", "--model", stories(), "--calib",
                                                        stories() + "/calibration.jsonl", "--method", "morphoquant",
                                                        "--wbits", "4", "--abits", "4", "--force-mask", "down_prj"}
                                         << 1 << "--force-mask down_prj names no module kind";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << 2 << "frobnicate";
    }
    void badInput()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, needle);
        Run r = cli(args);
        QCOMPARE(r.code, code);
        QVERIFY2(r.err.contains(needle), qPrintable(r.err));
    }

    void omniManifestEndToEnd()
    {
        const QString model = m_tmp.filePath("tiny-omni");
        Run r = cli({"make-tiny-omni", model, "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.last["shards"].get<int>(), 2);
        const QString manifest = QString(MQ_TEST_DATA_DIR) + "/manifest/mixed.jsonl";
        r = cli({"calibrate", "--model", model, "--manifest", manifest, "--session", m_tmp.filePath("omni.mqs"), "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("talker 2") && r.out.contains("carried along untouched"), qPrintable(r.out));
        for (const char* m : {"text", "image", "video", "audio"})
            QVERIFY2(r.last["modalities"][m].get<int64_t>() > 0, m);
        Run i = cli({"inspect", m_tmp.filePath("omni.mqs"), "--json"});
        QVERIFY2(i.code == 0, qPrintable(i.err));
        QCOMPARE(i.last["modalities"], r.last["modalities"]); // inspect reports what calibrate counted
        // quantize accepts the manifest in place of --calib.
        r = cli({"quantize", "--model", model, "--manifest", manifest, "--method", "morphoquant", "--wbits", "4",
                 "--abits", "4", "--any-modality", "--json", "--quiet"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.last["mdqfo_loss_final"].get<double>() <= r.last["mdqfo_loss_initial"].get<double>());
        r = cli({"quantize", "--model", model, "--calib", "x", "--manifest", manifest, "--method", "rtn", "--wbits",
                 "4", "--abits", "4"});
        QCOMPARE(r.code, 2); // exactly one of --calib and --manifest
        // Evaluation on the manifest: KL per modality of the compared positions; the positions
        // add up to every predicted one and the per-modality means average to the whole KL
        // (1e-9 relative: float64 sums in another order); the session keeps them.
        r = cli({"quantize", "--model", model, "--manifest", manifest, "--method", "rtn", "--wbits", "4", "--abits",
                 "4", "--eval-manifest", manifest, "--session", m_tmp.filePath("omni-eval.mqs"), "--json", "--quiet"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const json& me = r.last["manifest_eval"];
        double weighted = 0;
        int64_t positions = 0;
        for (const char* m : {"text", "image", "video", "audio"}) {
            QVERIFY2(me["kl_by_modality"].contains(m), m);
            const double kl = me["kl_by_modality"][m]["kl"].get<double>();
            const int64_t n = me["kl_by_modality"][m]["positions"].get<int64_t>();
            QVERIFY(kl > 0.0 && n > 0);
            weighted += kl * double(n);
            positions += n;
        }
        QCOMPARE(positions, me["tokens"].get<int64_t>());
        QVERIFY(std::fabs(weighted / double(positions) / me["kl"].get<double>() - 1.0) < 1e-9);
        Run ins = cli({"inspect", m_tmp.filePath("omni-eval.mqs"), "--json"});
        QVERIFY2(ins.code == 0, qPrintable(ins.err));
        QCOMPARE(ins.last["evals"].back()["kl_by_modality"], me["kl_by_modality"]);
        // The sweep on manifests: the same recipe gives the same figures, per modality too.
        const QString recipes = m_tmp.filePath("omni-recipes.json");
        writeBytes(recipes, R"([{"name": "rtn", "options": "--method rtn --wbits 4 --abits 4"}])");
        Run sw = cli({"sweep", "--model", model, "--manifest", manifest, "--eval-manifest", manifest, "--recipes",
                      recipes, "--json", "--quiet"});
        QVERIFY2(sw.code == 0, qPrintable(sw.err));
        QCOMPARE(sw.last["recipes"][0]["kl_by_modality"], me["kl_by_modality"]);
        QCOMPARE(sw.last["recipes"][0]["ppl"].get<double>(), me["ppl"].get<double>());
    }

    void helpForEveryCommand_data()
    {
        QTest::addColumn<QString>("cmd");
        for (const char* c : {"eval", "quantize", "sweep", "inspect", "calibrate", "make-tiny-omni", "make-synthetic",
                              "check-export"})
            QTest::newRow(c) << c;
    }
    void helpForEveryCommand()
    {
        QFETCH(QString, cmd);
        Run r = cli({cmd, "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith("usage: morphoquant-cli " + cmd));
    }

    // Help, unknown commands and usage errors are the launcher's (no engine, no libtorch): the
    // same exit code, stdout and stderr as the engine run directly (what morphoquant-cli was
    // before the launcher), while the engine named by MQ_CLI_ENGINE does not exist.
    void launcherAnswersWithoutTheEngine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("needle"); // in stdout for code 0, else in stderr
        const QString m = stories(), calib = stories() + "/calibration.jsonl";
        const QStringList q{"quantize", "--model", m, "--calib", calib, "--method", "rtn"};
        QTest::newRow("no command") << QStringList{} << 2 << "usage: morphoquant-cli COMMAND";
        QTest::newRow("--help") << QStringList{"--help"} << 0 << "usage: morphoquant-cli COMMAND";
        QTest::newRow("-h") << QStringList{"-h"} << 0 << "`morphoquant-cli COMMAND --help`";
        QTest::newRow("quantize --help") << QStringList{"quantize", "--help"} << 0 << "--mdqfo-tokens N";
        QTest::newRow("help after a bad option") << QStringList{"eval", "--modle", "-h"} << 0 << "--mem-budget S";
        QTest::newRow("make-synthetic --help") << QStringList{"make-synthetic", "--help"} << 0 << "--shape SHAPE";
        QTest::newRow("unknown command") << QStringList{"frobnicate"} << 2
                                         << "morphoquant-cli: unknown command 'frobnicate'";
        QTest::newRow("unknown option") << QStringList{"eval", "--modle", "x"} << 2
                                        << "morphoquant-cli eval: unknown option --modle (see --help)";
        QTest::newRow("missing value") << QStringList{"eval", "--data", "x", "--model"} << 2
                                       << "morphoquant-cli eval: --model needs a value (see --help)";
        QTest::newRow("flag with a value") << QStringList{"eval", "--json=1"} << 2 << "--json takes no value";
        QTest::newRow("missing required") << QStringList{"eval", "--model", m} << 2
                                          << "morphoquant-cli eval: --data is required (see --help)";
        QTest::newRow("not an integer") << QStringList{"eval", "--model", m, "--data", "x", "--threads", "two"} << 2
                                        << "--threads expects an integer, got 'two'";
        QTest::newRow("eval batch") << QStringList{"eval", "--model", m, "--data", "x", "--batch", "8x"} << 2
                                    << "--batch expects an integer, got '8x'";
        QTest::newRow("bad size") << QStringList{"eval", "--model", m, "--data", "x", "--mem-budget", "4X"} << 2
                                  << "morphoquant-cli eval: --mem-budget: '4X': unknown unit 'X'";
        QTest::newRow("method required") << QStringList{"quantize", "--model", m, "--calib", calib} << 2
                                         << "--method is required";
        QTest::newRow("bad method") << QStringList{"quantize", "--model", m, "--calib", calib, "--method", "gptq",
                                                   "--wbits", "4", "--abits", "4"}
                                    << 2 << "--method must be rtn or morphoquant, got 'gptq'";
        QTest::newRow("bits required") << q + QStringList{"--wbits", "4"} << 2 << "--wbits and --abits are required";
        QTest::newRow("wbits 9") << q + QStringList{"--wbits", "9", "--abits", "4"} << 2
                                 << "morphoquant-cli quantize: --wbits must be 2..8 or 16, got 9 (see --help)";
        QTest::newRow("wbits 1") << q + QStringList{"--wbits", "1", "--abits", "4"} << 2
                                 << "--wbits must be 2..8 or 16, got 1";
        QTest::newRow("abits 1") << q + QStringList{"--wbits", "4", "--abits", "1"} << 2
                                 << "--abits must be 2..8 or 16, got 1";
        QTest::newRow("nf4 needs 4 bits") << q + QStringList{"--wbits", "8", "--abits", "8", "--wformat", "nf4"} << 2
                                          << "--wformat nf4 is a 4-bit format; got --wbits 8";
        QTest::newRow("int4 vs 8 bits") << q + QStringList{"--wbits", "8", "--abits", "8", "--wformat", "int4"} << 2
                                        << "--wformat int4 contradicts --wbits 8";
        QTest::newRow("format at 16 bits") << q + QStringList{"--wbits", "16", "--abits", "8", "--wformat", "int"} << 2
                                           << "--wformat int needs --wbits 4 or 8";
        QTest::newRow("bad format") << q + QStringList{"--wbits", "4", "--abits", "4", "--wformat", "fp8"} << 2
                                    << "--wformat must be int, int4, int8, nf4, nf4-dq, nvfp4, mxfp4 or hif4, got 'fp8'";
        QTest::newRow("bad group size") << q + QStringList{"--wbits", "4", "--abits", "4", "--group-size", "g"} << 2
                                        << "--group-size expects an integer, got 'g'";
        QTest::newRow("bad k") << q + QStringList{"--wbits", "4", "--abits", "4", "--k", "two"} << 2
                               << "--k expects a number, got 'two'";
        // The dispersion form is a usage error naming the option (it was the engine's message
        // without the option's name before).
        QTest::newRow("bad score") << q + QStringList{"--wbits", "4", "--abits", "4", "--score", "mean"} << 2
                                   << "--score must be code or paper, got 'mean'";
        QTest::newRow("bad solver") << q + QStringList{"--wbits", "4", "--abits", "4", "--solver", "sgd"} << 2
                                    << "--solver must be grid or adam, got 'sgd'";
        QTest::newRow("negative mdqfo-tokens") << q + QStringList{"--wbits", "4", "--abits", "4", "--mdqfo-tokens", "-1"}
                                               << 2 << "--mdqfo-tokens must be >= 0";
        QTest::newRow("batch 0") << q + QStringList{"--wbits", "4", "--abits", "4", "--batch", "0"} << 2
                                 << "--batch must be at least 1";
        QTest::newRow("calib and manifest") << q + QStringList{"--wbits", "4", "--abits", "4", "--manifest", "x"} << 2
                                            << "give exactly one of --calib FILE and --manifest FILE";
        QTest::newRow("eval-fp needs eval") << q + QStringList{"--wbits", "4", "--abits", "4", "--eval-fp"} << 2
                                            << "--eval-fp needs --eval FILE";
        QTest::newRow("quantize bad size") << q + QStringList{"--wbits", "4", "--abits", "4", "--mem-budget", "lots"}
                                           << 2 << "--mem-budget: 'lots' is not a size";
        QTest::newRow("gptq needs int") << q + QStringList{"--wbits", "4", "--abits", "4", "--wformat", "nf4", "--gptq"}
                                        << 2 << "--gptq quantizes integer weights";
        QTest::newRow("gptq option without gptq") << q + QStringList{"--wbits", "4", "--abits", "4", "--gptq-clip", "5"}
                                                  << 2 << "need --gptq";
        QTest::newRow("aclip range") << q + QStringList{"--wbits", "4", "--abits", "4", "--aclip", "1.5"} << 2
                                     << "--aclip must be in (0, 1]";
        QTest::newRow("aclip and search") << q + QStringList{"--wbits", "4", "--abits", "4", "--aclip", "0.9",
                                                             "--aclip-search", "4"}
                                          << 2 << "--aclip and --aclip-search exclude each other";
        QTest::newRow("aasym is per-token")
            << QStringList{"quantize", "--model", m, "--calib", calib, "--method", "morphoquant", "--wbits", "4",
                           "--abits", "4", "--aasym"}
            << 2 << "apply to per-token and per-tensor activations (--method rtn)";
        QTest::newRow("bad preset") << q + QStringList{"--wbits", "4", "--abits", "4", "--preset", "best"} << 2
                                    << "--preset must be budget, authors, w4a4-best, w4a4-int-best or w4a4-nvfp4, got 'best'";
        QTest::newRow("aformat bits") << q + QStringList{"--wbits", "4", "--abits", "8", "--aformat", "nvfp4"} << 2
                                      << "--aformat nvfp4 is a 4-bit format; got --abits 8";
        QTest::newRow("aformat and aasym") << q + QStringList{"--wbits", "4", "--abits", "4", "--aformat", "hif4", "--aasym"}
                                           << 2 << "apply to --aformat int";
        QTest::newRow("gptq clip of a block format")
            << q + QStringList{"--wbits", "4", "--abits", "4", "--wformat", "nvfp4", "--gptq", "--gptq-clip", "5"} << 2
            << "--gptq-clip searches integer weights' scales";
        QTest::newRow("bad rotation") << q + QStringList{"--wbits", "4", "--abits", "4", "--rotate", "heads"} << 2
                                      << "--rotate must be none, hadamard or hadamard-heads, got 'heads'";
        QTest::newRow("calibrate no source") << QStringList{"calibrate", "--model", m, "--session", "s.mqs"} << 2
                                             << "give exactly one of --calib FILE and --manifest FILE";
        QTest::newRow("calibrate no session") << QStringList{"calibrate", "--model", m, "--calib", calib} << 2
                                              << "--session is required";
        QTest::newRow("inspect two files") << QStringList{"inspect", "a.mqs", "b.mqs"} << 2
                                           << "inspect takes one session file";
        QTest::newRow("tiny-omni seed") << QStringList{"make-tiny-omni", "out", "--seed", "-1"} << 2
                                        << "--seed must be >= 0";
        QTest::newRow("synthetic folder") << QStringList{"make-synthetic", "--shape", "test-wide"} << 2
                                          << "make-synthetic takes one output folder";
        QTest::newRow("export-format without export") << q + QStringList{"--wbits", "4", "--abits", "16",
                                                                         "--export-format", "nvfp4"}
                                                      << 2 << "--export-format needs --export OUTDIR";
        QTest::newRow("export-format unknown") << q + QStringList{"--wbits", "4", "--abits", "16", "--export", "x",
                                                                  "--export-format", "gguf"}
                                               << 2 << "unknown export format 'gguf'";
        QTest::newRow("export-format refuses the plan")
            << q + QStringList{"--wbits", "4", "--abits", "4", "--aasym", "--export", "x", "--export-format",
                               "compressed-tensors"}
            << 2 << "asymmetric per-token activations (--aasym)";
        QTest::newRow("check-export two folders") << QStringList{"check-export", "a", "b"} << 2
                                                  << "check-export takes one folder";
        QTest::newRow("synthetic shape required") << QStringList{"make-synthetic", "out"} << 2 << "--shape is required";
        QTest::newRow("synthetic shape unknown") << QStringList{"make-synthetic", "out", "--shape", "qwen2.5-13b"} << 2
                                                 << "--shape must be one of qwen2.5-7b, qwen2.5-omni-7b";
    }
    void launcherAnswersWithoutTheEngine()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, needle);
        const Run launcher = cli(args, 30000, "morphoquant-cli", kNoEngine);
        QCOMPARE(launcher.code, code);
        QVERIFY2((code == 0 ? launcher.out : launcher.err).contains(needle),
                 qPrintable(launcher.out + launcher.err));
        QVERIFY2(!launcher.err.contains("/nonexistent/engine"), qPrintable(launcher.err));
        const Run engine = cli(args, 60000, "morphoquant-cli-engine");
        QCOMPARE(launcher.code, engine.code);
        QCOMPARE(launcher.out, engine.out);
        QCOMPARE(launcher.err, engine.err);
    }

    // A command line that passes every check is the engine's: with no engine to start, the
    // launcher says which path it tried and exits 1.
    void launcherNamesTheEngineItCannotStart_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("eval") << QStringList{"eval", "--model", stories(), "--data", "x.jsonl"};
        QTest::newRow("quantize") << QStringList{"quantize", "--model", stories(), "--calib", "x", "--method",
                                                 "morphoquant", "--wbits", "3", "--abits", "16", "--eval", "y",
                                                 "--eval-fp", "--mem-budget", "512M", "--score", "paper"};
        QTest::newRow("inspect") << QStringList{"inspect", "a.mqs"};
        QTest::newRow("make-synthetic") << QStringList{"make-synthetic", "out", "--shape", "qwen2.5-omni-3b"};
    }
    void launcherNamesTheEngineItCannotStart()
    {
        QFETCH(QStringList, args);
        const Run r = cli(args, 30000, "morphoquant-cli", kNoEngine);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.startsWith("morphoquant-cli " + args[0] + ": error: cannot start the engine: tried "
                                  "/nonexistent/engine (No such file or directory)"),
                 qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
    }

    // The installed layout: bin/morphoquant-cli finds ../libexec/morphoquant/morphoquant-cli-engine.
    void launcherFindsTheInstalledEngine()
    {
        QTemporaryDir tmp;
        const QDir root(QFileInfo(tmp.path()).canonicalFilePath()); // as /proc/self/exe names it
        QVERIFY(root.mkpath("bin") && root.mkpath("libexec/morphoquant"));
        const QString bin = QString::fromStdString(mq::test::binDir());
        const QString launcher = root.filePath("bin/morphoquant-cli");
        const QString engine = root.filePath("libexec/morphoquant/morphoquant-cli-engine");
        // A copy (the launcher resolves /proc/self/exe, so a link would point back to the build tree).
        QVERIFY(QFile::copy(bin + "/morphoquant-cli", launcher));
        QVERIFY(QFile::setPermissions(launcher, QFile::permissions(bin + "/morphoquant-cli")));
        QVERIFY(QFile::link(bin + "/morphoquant-cli-engine", engine));
        Run r = cli({"inspect", "/nonexistent/session.mqs"}, 60000, launcher);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("/nonexistent/session.mqs") && !r.err.contains("cannot start the engine"),
                 qPrintable(r.err));
        QVERIFY(QFile::remove(engine));
        r = cli({"inspect", "/nonexistent/session.mqs"}, 60000, launcher);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("cannot start the engine: tried " + root.filePath("bin/morphoquant-cli-engine")
                                + " (No such file or directory), " + root.filePath("bin")
                                + "/../libexec/morphoquant/morphoquant-cli-engine (No such file or directory); "
                                  "set MQ_CLI_ENGINE"),
                 qPrintable(r.err));
    }

    // The launcher does not link libtorch (nor anything that does): the dynamic loader's list of
    // what it loads (ldd), else the ELF's DT_NEEDED entries (readelf -d). The engine does.
    void launcherLinksNoLibtorch()
    {
        QString tool = QStandardPaths::findExecutable("ldd");
        QStringList toolArgs;
        if (!tool.isEmpty()) {
            toolArgs = {};
        } else {
            tool = QStandardPaths::findExecutable("readelf");
            toolArgs = {"-d"};
        }
        if (tool.isEmpty())
            QSKIP("neither ldd nor readelf is installed: cannot list the launcher's dynamic dependencies");
        auto deps = [&](const QString& binary) {
            QProcess p;
            p.start(tool, toolArgs + QStringList{QString::fromStdString(mq::test::binDir()) + "/" + binary});
            if (!p.waitForFinished(30000) || p.exitCode() != 0)
                return QString();
            return QString::fromUtf8(p.readAllStandardOutput());
        };
        const QRegularExpression torch("lib(torch|c10)[^ ]*\\.so");
        const QString launcher = deps("morphoquant-cli"), engine = deps("morphoquant-cli-engine");
        QVERIFY2(launcher.contains("libc.so"), qPrintable(tool + ": " + launcher));
        QVERIFY2(!launcher.contains(torch), qPrintable(launcher));
        QVERIFY2(engine.contains(torch), qPrintable(engine)); // the check would see libtorch
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
