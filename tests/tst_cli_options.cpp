// The wiring of quantize's options (issue 13, item 6): each option, parsed as the CLI parses it
// (parseArgs + quantizeOptions, what the launcher checks and the engine then runs with), sets
// the one field of QuantizeOptions / QuantSettings it names, to the value given, and that field
// holds something else without the option, so an option that stopped reaching its field fails
// here. Bad values are refused with a message naming the option. No model is opened: these are
// the libtorch-free checks of mqcli_usage (tst_cli runs the options end to end).
#include "test_util.h"

#include "usage.h"

#include <QtTest/QtTest>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using mq::cli::QuantizeOptions;

namespace {

// One field of the parsed options, as text (numbers with 10 significant digits: every value
// below is given with fewer, so equal text is the same number).
using Field = std::function<std::string(const QuantizeOptions&)>;

std::string num(double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}
std::string flag(bool b)
{
    return b ? "true" : "false";
}
std::string joined(const std::vector<std::string>& v)
{
    std::string out;
    for (const std::string& s : v)
        out += (out.empty() ? "" : ",") + s;
    return out;
}

QString model()
{
    return QString::fromStdString(mq::test::storiesDir());
}
QString calib()
{
    return model() + "/calibration.jsonl";
}

// `morphoquant-cli quantize --model M --calib C --method METHOD --wbits 4 --abits 4 EXTRA...`
std::vector<std::string> commandLine(const QString& method, const QStringList& extra)
{
    std::vector<std::string> argv{"morphoquant-cli", "quantize", "--model", model().toStdString(),
                                  "--calib", calib().toStdString(), "--method", method.toStdString(),
                                  "--wbits", "4", "--abits", "4"};
    for (const QString& e : extra)
        argv.push_back(e.toStdString());
    return argv;
}

// What the engine runs with for that command line (UsageError / InputError escape).
QuantizeOptions parse(const QString& method, const QStringList& extra)
{
    std::vector<std::string> args = commandLine(method, extra);
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    return mq::cli::quantizeOptions(mq::cli::parseArgs("quantize", int(argv.size()), argv.data()));
}

// The launcher's check of that command line: "usage: MESSAGE" for a UsageError (exit 2),
// "input: MESSAGE" for an InputError (exit 1), "" when it passes.
std::string launcherVerdict(const QString& method, const QStringList& extra)
{
    std::vector<std::string> args = commandLine(method, extra);
    std::vector<char*> argv;
    for (std::string& a : args)
        argv.push_back(a.data());
    try {
        mq::cli::checkUsage(int(argv.size()), argv.data());
    } catch (const mq::cli::UsageError& e) {
        return std::string("usage: ") + e.what();
    } catch (const mq::core::InputError& e) {
        return std::string("input: ") + e.what();
    }
    return "";
}

} // namespace

Q_DECLARE_METATYPE(Field)

class TestCliOptions : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    // Each row: the method, options kept in both command lines (context), the option under test,
    // the field it must set and the value it must hold.
    void optionSetsItsField_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QStringList>("context");
        QTest::addColumn<QStringList>("option");
        QTest::addColumn<Field>("field");
        QTest::addColumn<QString>("expected");
        using O = const QuantizeOptions&;
        const QString mq = "morphoquant", rtn = "rtn";
        const QStringList none, authors{"--preset", "authors"}, gptq{"--gptq"};
        auto row = [](const char* name, const QString& method, const QStringList& context, const QStringList& option,
                      const Field& field, const QString& expected) {
            QTest::newRow(name) << method << context << option << field << expected;
        };
        const Field form = [](O o) { return std::string(mq::core::dispersionFormName(o.settings.dabc.form)); };
        const Field forced = [](O o) { return joined(o.settings.dabc.forceKinds); };
        const Field maxShare = [](O o) { return num(o.settings.dabc.maxShare); };
        const Field solver = [](O o) {
            return std::string(o.settings.mdqfo.solver == mq::core::MdqfoSolver::Adam ? "adam" : "grid");
        };
        const Field sample = [](O o) {
            return std::to_string(o.settings.mdqfo.sampleRows) + " rows, "
                + std::to_string(o.settings.mdqfo.sampleElements) + " elements";
        };
        // DABC (Eqs. 6-8): which channels are compensated, and how.
        row("--k", mq, none, {"--k", "1.5"}, [](O o) { return num(o.settings.dabc.k); }, "1.5");
        row("--no-local", mq, none, {"--no-local"}, [](O o) { return flag(o.settings.dabc.useLocal); }, "false");
        row("--no-global", mq, none, {"--no-global"}, [](O o) { return flag(o.settings.dabc.useGlobal); }, "false");
        row("--no-dabc", mq, none, {"--no-dabc"}, [](O o) { return flag(o.settings.dabc.enabled); }, "false");
        row("--any-modality", mq, none, {"--any-modality"}, [](O o) { return flag(o.settings.dabc.anyModality); },
            "true");
        row("--score paper", mq, none, {"--score", "paper"}, form, "paper");
        // The last of a repeated option wins.
        row("--score code after paper", mq, {"--score", "paper"}, {"--score", "code"}, form, "code");
        row("--rho", mq, none, {"--rho", "0.5"}, [](O o) { return num(o.settings.dabc.rho); }, "0.5");
        row("--force-mask", mq, none, {"--force-mask", "q_proj"}, forced, "q_proj");
        // Repeatable: every kind given, in order.
        row("--force-mask twice", mq, none, {"--force-mask", "q_proj", "--force-mask=up_proj"}, forced,
            "q_proj,up_proj");
        row("--force-mask none", mq, authors, {"--force-mask", "none"}, forced, ""); // clears the preset's down_proj
        row("--dabc-max-share", mq, none, {"--dabc-max-share", "0.25"}, maxShare, "0.25");
        row("--dabc-max-share over authors", mq, authors, {"--dabc-max-share", "0.1"}, maxShare, "0.1");
        row("--preset authors: forced kinds", mq, none, authors, forced, "down_proj");
        row("--preset authors: no cap", mq, none, authors, maxShare, "1");
        // budget is the default: at most 1/24 of each group's channels, none forced.
        row("--preset budget after authors", mq, authors, {"--preset", "budget"},
            [](O o) { return num(o.settings.dabc.maxShare) + " " + joined(o.settings.dabc.forceKinds); },
            QString::fromStdString(num(1.0 / 24.0) + " "));
        // MDQFO (Eqs. 9-10): the clipping search.
        row("--solver adam", mq, none, {"--solver", "adam"}, solver, "adam");
        row("--solver grid after adam", mq, {"--solver", "adam"}, {"--solver", "grid"}, solver, "grid");
        row("--p", mq, none, {"--p", "2.5"}, [](O o) { return num(o.settings.mdqfo.p); }, "2.5");
        row("--lambda-cos", mq, none, {"--lambda-cos", "0.5"}, [](O o) { return num(o.settings.mdqfo.lambdaCos); },
            "0.5");
        row("--ratios", mq, none, {"--ratios", "7"}, [](O o) { return std::to_string(o.settings.mdqfo.ratios); }, "7");
        row("--adam-steps", mq, {"--solver", "adam"}, {"--adam-steps", "25"},
            [](O o) { return std::to_string(o.settings.mdqfo.adamSteps); }, "25");
        row("--no-mdqfo", mq, none, {"--no-mdqfo"}, [](O o) { return flag(o.settings.mdqfo.enabled); }, "false");
        // At most 256 rows; the element cap stays. 0: every row.
        row("--mdqfo-tokens", mq, none, {"--mdqfo-tokens", "256"}, sample,
            QString("256 rows, %1 elements").arg(qint64(1) << 24));
        row("--mdqfo-tokens 0", mq, none, {"--mdqfo-tokens", "0"}, sample, "0 rows, 0 elements");
        // Weights.
        row("--group-size", mq, none, {"--group-size", "32"},
            [](O o) { return std::to_string(o.settings.weight.groupSize); }, "32");
        row("--asym", mq, none, {"--asym"}, [](O o) { return flag(o.settings.weight.symmetric); }, "false");
        row("--wbits", rtn, none, {"--wbits", "3"},
            [](O o) { return std::to_string(o.wbits) + " " + std::to_string(o.settings.weight.bits); }, "3 3");
        row("--abits", rtn, none, {"--abits", "8"}, [](O o) { return std::to_string(o.settings.abits); }, "8");
        row("--method", rtn, none, {"--method", "morphoquant"}, [](O o) { return o.settings.method; }, "morphoquant");
        row("--wformat nf4-dq", rtn, none, {"--wformat", "nf4-dq"},
            [](O o) { return o.settings.weight.label() + " " + flag(o.settings.weight.nf4DoubleQuant); },
            "nf4-b64-dq true");
        row("--wscale-dtype", rtn, none, {"--wscale-dtype", "bf16"},
            [](O o) {
                return std::string(mq::core::scaleDtypeName(o.settings.weight.scaleDtype)) + " "
                    + flag(o.scaleDtypeGiven);
            },
            "bf16 true");
        row("--gptq", rtn, none, gptq, [](O o) { return flag(o.settings.gptq.enabled); }, "true");
        row("--gptq-damp", rtn, gptq, {"--gptq-damp", "0.05"}, [](O o) { return num(o.settings.gptq.damp); }, "0.05");
        row("--gptq-block", rtn, gptq, {"--gptq-block", "64"},
            [](O o) { return std::to_string(o.settings.gptq.blockSize); }, "64");
        row("--gptq-clip", rtn, gptq, {"--gptq-clip", "10"},
            [](O o) { return std::to_string(o.settings.gptq.clipSteps); }, "10");
        row("--gptq-no-act-order", rtn, gptq, {"--gptq-no-act-order"},
            [](O o) { return flag(o.settings.gptq.actOrder); }, "false");
        row("--gptq-fp-target", rtn, gptq, {"--gptq-fp-target"}, [](O o) { return flag(o.settings.gptq.fpTarget); },
            "true");
        // Per-token activations (rtn).
        row("--aclip", rtn, none, {"--aclip", "0.9"}, [](O o) { return num(o.settings.actClip); }, "0.9");
        row("--aasym", rtn, none, {"--aasym"}, [](O o) { return flag(o.settings.actAsym); }, "true");
        row("--aclip-search", rtn, none, {"--aclip-search", "8"},
            [](O o) { return std::to_string(o.settings.actClipSearch); }, "8");
        row("--aclip-objective", rtn, QStringList{"--aclip-search", "8"}, {"--aclip-objective", "morphology"},
            [](O o) { return flag(o.settings.actClipMorphology); }, "true");
        row("--per-tensor", rtn, none, {"--per-tensor"}, [](O o) { return flag(o.settings.weight.perTensor); }, "true");
        row("--aformat", rtn, none, {"--aformat", "hif4"},
            [](O o) { return std::string(mq::core::actFormatName(o.settings.actFormat)); }, "hif4");
        row("--ascheme", rtn, none, {"--ascheme", "per-tensor-static"},
            [](O o) { return std::string(mq::core::actSchemeName(o.settings.act)); }, "per-tensor-static");
        row("--ascheme dynamic", rtn, none, {"--ascheme", "per-tensor-dynamic"},
            [](O o) { return std::string(mq::core::actSchemeName(o.settings.act)); }, "per-tensor-dynamic");
        row("--agroup-size", rtn, none, {"--agroup-size", "32"},
            [](O o) { return std::to_string(o.settings.actGroupSize); }, "32");
        row("--smooth", rtn, none, {"--smooth", "0.6"},
            [](O o) { return flag(o.settings.smooth) + " " + num(o.settings.smoothAlpha); }, "true 0.6");
        // Rotation, mode, the run.
        row("--rotate", rtn, none, {"--rotate", "hadamard"}, [](O o) { return o.rotation; }, "hadamard:0");
        row("--rotate-seed", rtn, {"--rotate", "hadamard-heads"}, {"--rotate-seed", "3"},
            [](O o) { return o.rotation; }, "hadamard-heads:3");
        row("--mode deployable", mq, none, {"--mode", "deployable"}, [](O o) { return o.settings.mode; },
            "deployable");
        row("--batch", mq, none, {"--batch", "4"}, [](O o) { return std::to_string(o.batch); }, "4");
        row("--threads", mq, none, {"--threads", "3"}, [](O o) { return std::to_string(o.threads); }, "3");
        row("--mem-budget", mq, none, {"--mem-budget", "512M"},
            [](O o) { return std::to_string(o.stream.memBudget); }, QString::number(qint64(512) << 20));
        row("--eval", mq, none, {"--eval", "e.jsonl"}, [](O o) { return o.evalPath; }, "e.jsonl");
        row("--eval-manifest", mq, none, {"--eval-manifest", "m.jsonl"}, [](O o) { return o.evalManifest; },
            "m.jsonl");
        row("--export", rtn, none, {"--export", "out"}, [](O o) { return o.exportDir; }, "out");
        row("--export-format", rtn, {"--export", "out"}, {"--export-format", "compressed-tensors"},
            [](O o) { return std::string(mq::core::exportFormatName(o.exportFormat)); }, "compressed-tensors");
        // The true 4-bit presets are whole recipes; a few of the values each sets.
        row("--preset w4a4-int-best", rtn, none, {"--preset", "w4a4-int-best"},
            [](O o) {
                return o.rotation + " " + flag(o.settings.actAsym) + " " + num(o.settings.actClip) + " gptq "
                    + flag(o.settings.gptq.enabled) + " clip " + std::to_string(o.settings.gptq.clipSteps);
            },
            "hadamard-heads:0 true 0.9 gptq true clip 20");
        row("--preset w4a4-best", rtn, none, {"--preset", "w4a4-best"},
            [](O o) {
                return o.settings.weight.label() + " " + mq::core::actFormatName(o.settings.actFormat) + " damp "
                    + num(o.settings.gptq.damp) + " " + flag(o.settings.gptq.fpTarget);
            },
            "hif4 hif4 damp 0.0001 true");
    }
    void optionSetsItsField()
    {
        QFETCH(QString, method);
        QFETCH(QStringList, context);
        QFETCH(QStringList, option);
        QFETCH(Field, field);
        QFETCH(QString, expected);
        const std::string with = field(parse(method, context + option));
        const std::string without = field(parse(method, context));
        QCOMPARE(QString::fromStdString(with), expected);
        // Without the option the field holds something else: the row could fail.
        QVERIFY2(without != expected.toStdString(), qPrintable(QString::fromStdString(without)));
        // The launcher accepts what the engine runs.
        QCOMPARE(QString::fromStdString(launcherVerdict(method, context + option)), QString());
    }

    // Every DABC and MDQFO option of issue 13 at once: each reaches its field, none undoes
    // another (tst_cli's optionsReachTheSession runs most of them end to end).
    void dabcAndMdqfoOptionsTogether()
    {
        const QuantizeOptions o = parse(
            "morphoquant", {"--k", "1.5", "--no-local", "--no-global", "--score", "paper", "--rho", "0.5",
                            "--force-mask", "o_proj", "--no-dabc", "--solver", "adam", "--p", "2.5", "--lambda-cos",
                            "0.5", "--ratios", "7", "--adam-steps", "9", "--no-mdqfo", "--mdqfo-tokens", "256",
                            "--group-size", "32", "--asym", "--batch", "4", "--any-modality", "--dabc-max-share",
                            "0.5"});
        const mq::core::QuantSettings& s = o.settings;
        QCOMPARE(s.dabc.k, 1.5);
        QVERIFY(!s.dabc.useLocal && !s.dabc.useGlobal && !s.dabc.enabled && s.dabc.anyModality);
        QCOMPARE(s.dabc.form, mq::core::DispersionForm::Paper);
        QCOMPARE(s.dabc.rho, 0.5);
        QCOMPARE(s.dabc.forceKinds, std::vector<std::string>{"o_proj"});
        QCOMPARE(s.dabc.maxShare, 0.5);
        QCOMPARE(s.mdqfo.solver, mq::core::MdqfoSolver::Adam);
        QCOMPARE(s.mdqfo.p, 2.5);
        QCOMPARE(s.mdqfo.lambdaCos, 0.5);
        QCOMPARE(s.mdqfo.ratios, 7);
        QCOMPARE(s.mdqfo.adamSteps, 9);
        QVERIFY(!s.mdqfo.enabled);
        QCOMPARE(s.mdqfo.sampleRows, 256);
        QCOMPARE(s.weight.groupSize, 32);
        QVERIFY(!s.weight.symmetric);
        QCOMPARE(o.batch, 4);
        // What no option touched keeps the struct's default.
        const mq::core::QuantSettings d;
        QCOMPARE(s.mdqfo.rMin, d.mdqfo.rMin);
        QCOMPARE(s.mdqfo.batchTokens, d.mdqfo.batchTokens);
        QCOMPARE(s.mdqfo.adamLr, d.mdqfo.adamLr);
        QCOMPARE(s.mode, d.mode);
        QVERIFY(!s.gptq.enabled);
    }

    // With no option at all, the parsed settings are QuantSettings' defaults (the rows above
    // compare against these), except what the command line itself names.
    void defaultsAreTheStructs()
    {
        const QuantizeOptions o = parse("morphoquant", {});
        const mq::core::QuantSettings& s = o.settings;
        const mq::core::QuantSettings d;
        QCOMPARE(s.dabc.k, d.dabc.k);
        QCOMPARE(s.dabc.useLocal, d.dabc.useLocal);
        QCOMPARE(s.dabc.useGlobal, d.dabc.useGlobal);
        QCOMPARE(s.dabc.enabled, d.dabc.enabled);
        QCOMPARE(s.dabc.anyModality, d.dabc.anyModality);
        QCOMPARE(s.dabc.form, d.dabc.form);
        QCOMPARE(s.dabc.rho, d.dabc.rho);
        QCOMPARE(s.dabc.forceKinds, d.dabc.forceKinds);
        QCOMPARE(s.dabc.maxShare, d.dabc.maxShare);
        QCOMPARE(s.mdqfo.enabled, d.mdqfo.enabled);
        QCOMPARE(s.mdqfo.solver, d.mdqfo.solver);
        QCOMPARE(s.mdqfo.p, d.mdqfo.p);
        QCOMPARE(s.mdqfo.lambdaCos, d.mdqfo.lambdaCos);
        QCOMPARE(s.mdqfo.ratios, d.mdqfo.ratios);
        QCOMPARE(s.mdqfo.adamSteps, d.mdqfo.adamSteps);
        QCOMPARE(s.mdqfo.sampleRows, d.mdqfo.sampleRows);
        QCOMPARE(s.mdqfo.sampleElements, d.mdqfo.sampleElements);
        QCOMPARE(s.weight.groupSize, d.weight.groupSize);
        QCOMPARE(s.weight.symmetric, d.weight.symmetric);
        QCOMPARE(s.weight.scaleDtype, d.weight.scaleDtype);
        QCOMPARE(s.gptq.enabled, d.gptq.enabled);
        QCOMPARE(s.actClip, d.actClip);
        QCOMPARE(s.actAsym, d.actAsym);
        QCOMPARE(s.smooth, d.smooth);
        QCOMPARE(s.mode, d.mode);
        QCOMPARE(s.method, std::string("morphoquant"));
        QCOMPARE(s.weight.format, mq::core::WeightFormat::Int);
        QCOMPARE(s.weight.bits, 4);
        QCOMPARE(s.abits, 4);
        QCOMPARE(o.batch, 8);
        QCOMPARE(o.rotation, std::string());
        QCOMPARE(o.calibKind, std::string("tokens"));
        QCOMPARE(o.calibPath, calib().toStdString());
        QCOMPARE(o.model, model().toStdString());
        QVERIFY(!o.scaleDtypeGiven);
    }

    // A recipe file's options reach the same fields, and the command line's win over them.
    void recipeOptionsReachTheirFields()
    {
        const QString file = m_tmp.filePath("recipe.json");
        writeBytes(file, R"({"name": "r", "options": "--k 1.25 --no-global --solver adam --p 3 --batch 2"})");
        const QuantizeOptions o = parse("morphoquant", {"--recipe", file, "--p", "2.5"});
        QCOMPARE(o.settings.dabc.k, 1.25);
        QVERIFY(!o.settings.dabc.useGlobal);
        QCOMPARE(o.settings.mdqfo.solver, mq::core::MdqfoSolver::Adam);
        QCOMPARE(o.settings.mdqfo.p, 2.5); // the command line's
        QCOMPARE(o.batch, 2);
        // A sweep's recipe: its own options, the sweep's batch.
        mq::cli::SweepOptions sweep;
        sweep.model = model().toStdString();
        sweep.calib = calib().toStdString();
        sweep.batch = 3;
        const QuantizeOptions r = mq::cli::recipeOptions(
            sweep, {"--method", "morphoquant", "--wbits", "4", "--abits", "4", "--rho", "0.25", "--no-mdqfo"});
        QCOMPARE(r.settings.dabc.rho, 0.25);
        QVERIFY(!r.settings.mdqfo.enabled);
        QCOMPARE(r.batch, 3);
    }

    // Bad values: refused before anything runs, by the launcher and the engine alike, with a
    // message naming the option ("usage:" exit 2; "input:" exit 1).
    void badValueNamesTheOption_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("expected"); // the verdict starts with it
        const QString mq = "morphoquant", rtn = "rtn";
        auto row = [](const char* name, const QString& method, const QStringList& extra, const QString& expected) {
            QTest::newRow(name) << method << extra << expected;
        };
        row("--solver foo", mq, {"--solver", "foo"}, "usage: --solver must be grid or adam, got 'foo'");
        row("--abits 9", mq, {"--abits", "9"}, "usage: --abits must be 2..8 or 16, got 9");
        row("--wbits 9", mq, {"--wbits", "9"}, "usage: --wbits must be 2..8 or 16, got 9");
        row("--k two", mq, {"--k", "two"}, "usage: --k expects a number, got 'two'");
        row("--rho x", mq, {"--rho", "x"}, "usage: --rho expects a number, got 'x'");
        row("--p x", mq, {"--p", "x"}, "usage: --p expects a number, got 'x'");
        row("--lambda-cos x", mq, {"--lambda-cos", "x"}, "usage: --lambda-cos expects a number, got 'x'");
        row("--ratios 1.5", mq, {"--ratios", "1.5"}, "usage: --ratios expects an integer, got '1.5'");
        row("--adam-steps x", mq, {"--adam-steps", "x"}, "usage: --adam-steps expects an integer, got 'x'");
        row("--mdqfo-tokens -1", mq, {"--mdqfo-tokens", "-1"}, "usage: --mdqfo-tokens must be >= 0");
        row("--dabc-max-share 1.5", mq, {"--dabc-max-share", "1.5"}, "usage: --dabc-max-share must be within 0..1");
        row("--group-size g", mq, {"--group-size", "g"}, "usage: --group-size expects an integer, got 'g'");
        row("--batch 0", mq, {"--batch", "0"}, "usage: --batch must be at least 1");
        row("--force-mask without a value", mq, {"--force-mask"}, "usage: --force-mask needs a value");
        row("--no-dabc=1", mq, {"--no-dabc=1"}, "usage: --no-dabc takes no value");
        row("--preset best", mq, {"--preset", "best"},
            "usage: --preset must be budget, authors, w4a4-best, w4a4-int-best or w4a4-nvfp4, got 'best'");
        row("--aclip 0", rtn, {"--aclip", "0"}, "usage: --aclip must be in (0, 1]");
        row("--aclip-search 2000", rtn, {"--aclip-search", "2000"}, "usage: --aclip-search must be 0..1000");
        row("--aclip-objective kl", rtn, {"--aclip-search", "4", "--aclip-objective", "kl"},
            "usage: --aclip-objective must be output or morphology, got 'kl'");
        row("--per-tensor with --group-size", rtn, {"--per-tensor", "--group-size", "4"},
            "usage: --per-tensor and --group-size exclude each other");
        row("--per-tensor with --gptq", rtn, {"--per-tensor", "--gptq"},
            "usage: --gptq with --per-tensor weights is not written");
        row("--aclip-objective without a search", rtn, {"--aclip-objective", "morphology"},
            "usage: --aclip-objective needs --aclip-search N");
        row("--aasym with morphoquant", mq, {"--aasym"},
            "usage: --aclip, --aclip-search, --aasym and the w4a4 presets apply to per-token and per-tensor "
            "activations (--method rtn)");
        row("--agroup-size 0", rtn, {"--agroup-size", "0"}, "usage: --agroup-size must be at least 1");
        row("--settings beside recipe options", mq, {"--settings", "recipe.json"},
            "usage: --settings gives the whole recipe; --method cannot stand beside it");
        row("--quantize-encoders on tokens", mq, {"--quantize-encoders"},
            "usage: --quantize-encoders needs --manifest: a Qwen2.5-Omni manifest with images, audio or video");
        row("--agroup-size with morphoquant", mq, {"--agroup-size", "32"},
            "usage: --agroup-size applies to per-token integer activations");
        row("--agroup-size per tensor", rtn, {"--ascheme", "per-tensor-static", "--agroup-size", "32"},
            "usage: --agroup-size applies to per-token integer activations");
        row("--ascheme per-row", rtn, {"--ascheme", "per-row"},
            "usage: --ascheme must be per-token-dynamic, per-tensor-dynamic or per-tensor-static, got 'per-row'");
        row("--ascheme with morphoquant", mq, {"--ascheme", "per-tensor-static"},
            "usage: --ascheme applies to --method rtn");
        row("--ascheme with 16-bit activations", rtn, {"--abits", "16", "--ascheme", "per-tensor-static"},
            "usage: --ascheme needs quantized activations");
        row("--ascheme with a block format", rtn, {"--aformat", "mxfp4", "--ascheme", "per-tensor-dynamic"},
            "usage: --ascheme per-tensor-dynamic quantizes integers; --aformat mxfp4 is a per-token block format");
        row("--smooth 2", rtn, {"--smooth", "2"}, "usage: --smooth takes a migration strength within 0..1");
        row("--smooth with morphoquant", mq, {"--smooth", "0.5"}, "usage: --smooth applies to --method rtn");
        row("--gptq-damp without --gptq", rtn, {"--gptq-damp", "0.1"},
            "usage: --gptq-damp, --gptq-block, --gptq-clip, --gptq-no-act-order and --gptq-fp-target need --gptq");
        row("--gptq-damp -1", rtn, {"--gptq", "--gptq-damp", "-1"}, "usage: --gptq-damp must be >= 0");
        row("--gptq-block 0", rtn, {"--gptq", "--gptq-block", "0"}, "usage: --gptq-block must be >= 1");
        row("--gptq-clip 2000", rtn, {"--gptq", "--gptq-clip", "2000"}, "usage: --gptq-clip must be 0..1000");
        row("--rotate x", rtn, {"--rotate", "x"}, "usage: --rotate must be none, hadamard or hadamard-heads, got 'x'");
        row("--rotate-seed without --rotate", rtn, {"--rotate-seed", "3"}, "usage: --rotate-seed needs --rotate");
        row("--mode fast", mq, {"--mode", "fast"}, "usage: --mode must be simulated or deployable, got 'fast'");
        row("--mode deployable with rtn", rtn, {"--mode", "deployable"},
            "usage: --mode deployable folds static per-channel activation scales into the weights: it needs "
            "--method morphoquant");
        row("--mode deployable with --gptq", mq, {"--mode", "deployable", "--gptq"},
            "usage: --mode deployable with --gptq is not written yet");
        row("--wscale-dtype f8", rtn, {"--wscale-dtype", "f8"}, "usage: --wscale-dtype: unknown scale dtype 'f8'");
        row("--wscale-dtype of nf4", rtn, {"--wformat", "nf4", "--wscale-dtype", "bf16"},
            "usage: --wscale-dtype rounds integer weights' scales");
        // The dispersion form has always been the engine's InputError (exit 1); its message
        // names the value and the choices, not the option.
        row("--score mean", mq, {"--score", "mean"}, "usage: --score must be code or paper, got 'mean'");
        // Numbers out of their range, non-finite numbers and integers past int are refused.
        row("--rho -0.5", mq, {"--rho", "-0.5"}, "usage: --rho must be >= 0");
        row("--p 0", mq, {"--p", "0"}, "usage: --p must be > 0");
        row("--lambda-cos -1", mq, {"--lambda-cos", "-1"}, "usage: --lambda-cos must be >= 0");
        row("--ratios 0", mq, {"--ratios", "0"}, "usage: --ratios must be at least 1");
        row("--adam-steps 0", mq, {"--adam-steps", "0"}, "usage: --adam-steps must be at least 1");
        row("--group-size -32", mq, {"--group-size", "-32"}, "usage: --group-size must be >= 0");
        row("--k nan", mq, {"--k", "nan"}, "usage: --k expects a finite number, got 'nan'");
        row("--k inf", mq, {"--k", "inf"}, "usage: --k expects a finite number, got 'inf'");
        row("--batch past int", mq, {"--batch", "4294967297"}, "usage: --batch is out of range, got '4294967297'");
    }
    void badValueNamesTheOption()
    {
        QFETCH(QString, method);
        QFETCH(QStringList, extra);
        QFETCH(QString, expected);
        const QString verdict = QString::fromStdString(launcherVerdict(method, extra));
        QVERIFY2(verdict.startsWith(expected), qPrintable(verdict));
        // The engine's own parse throws the same (it calls the same functions).
        QString engine;
        try {
            parse(method, extra);
        } catch (const mq::cli::UsageError& e) {
            engine = QString("usage: ") + e.what();
        } catch (const mq::core::InputError& e) {
            engine = QString("input: ") + e.what();
        }
        QCOMPARE(engine, verdict);
    }

    // --session names a new file: an existing one is refused (InputError naming it) unless
    // --overwrite; the path reaches QuantizeOptions::session.
    void sessionPathAndOverwrite()
    {
        const QString path = m_tmp.filePath("s.mqs");
        QCOMPARE(parse("rtn", {"--session", path}).session, path.toStdString());
        writeBytes(path, "x");
        const QString verdict = QString::fromStdString(launcherVerdict("rtn", {"--session", path}));
        QVERIFY2(verdict.startsWith("input: " + path + " already exists; --overwrite replaces it"),
                 qPrintable(verdict));
        QCOMPARE(parse("rtn", {"--session", path, "--overwrite"}).session, path.toStdString());
    }
};

QTEST_GUILESS_MAIN(TestCliOptions)
#include "tst_cli_options.moc"
