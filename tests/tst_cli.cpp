// morphoquant-cli end to end on the really trained stories260K: full-precision eval, W4A4 RTN
// and MorphoQuant with session and export, reload of the export, inspect, and bad input.
#include "test_util.h"

#include "io/session_store.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

using nlohmann::json;

namespace {

struct Run {
    int code = -1;
    QString out, err;
    json last; // last stdout line parsed as JSON (null if it is not JSON)
};

Run cli(const QStringList& args, int timeoutMs = 300000)
{
    QProcess p;
    p.start(QString::fromStdString(mq::test::binDir() + "/morphoquant-cli"), args);
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
        // The model README's reference, to the 1e-4.
        QVERIFY(std::fabs(r.last["nll"].get<double>() - 1.278281) < 1e-4);
        QVERIFY(r.err.contains("ETA")); // progress with ETA on stderr
    }

    void quantizeRtn()
    {
        Run r = cli({"quantize", "--model", stories(), "--calib", stories() + "/calibration.jsonl", "--method", "rtn",
                     "--wbits", "4", "--abits", "4", "--eval", stories() + "/evaluation.jsonl", "--json",
                     "--session", m_tmp.filePath("rtn.mqs"), "--export", m_tmp.filePath("rtn-export")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        m_rtnPpl = r.last["ppl"].get<double>();
        QVERIFY(m_rtnPpl > 3.5905); // 4-bit costs something over full precision
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
        QVERIFY2(m_mqPpl < m_rtnPpl, qPrintable(QStringLiteral("morphoquant %1 vs rtn %2").arg(m_mqPpl).arg(m_rtnPpl)));
        QVERIFY(std::fabs(r.last["fp"]["nll"].get<double>() - 1.278281) < 1e-4);
        QVERIFY(r.last["mdqfo_loss_final"].get<double>() < r.last["mdqfo_loss_initial"].get<double>());
        QVERIFY(r.last["dabc_masked_channels"].get<int64_t>() > 0);
    }

    void exportReloadsAsTheSameModel_data()
    {
        QTest::addColumn<QString>("dir");
        QTest::addColumn<QString>("which");
        QTest::newRow("rtn") << "rtn-export" << "rtn";
        QTest::newRow("morphoquant") << "mq-export" << "mq";
    }
    void exportReloadsAsTheSameModel()
    {
        QFETCH(QString, dir);
        QFETCH(QString, which);
        Run r = cli({"eval", "--model", m_tmp.filePath(dir), "--data", stories() + "/evaluation.jsonl", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.last["quantized"].get<bool>());
        const double want = which == "rtn" ? m_rtnPpl : m_mqPpl;
        // The bound: equal within 1e-3 relative.
        QVERIFY2(std::fabs(r.last["ppl"].get<double>() - want) <= 1e-3 * want,
                 qPrintable(QStringLiteral("%1 vs %2").arg(r.last["ppl"].get<double>()).arg(want)));
    }

    void inspectReportsTheSession()
    {
        Run r = cli({"inspect", m_tmp.filePath("mq.mqs"), "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const json& j = r.last;
        QCOMPARE(j["modalities"]["text"].get<int64_t>(), int64_t(64 * 257));
        QCOMPARE(j["modalities"]["audio"].get<int64_t>(), int64_t(0));
        QCOMPARE(j["modules"].size(), size_t(35)); // 5 layers x 7 Linear
        QCOMPARE(j["groups"].size(), size_t(20));  // 5 layers x 4 inputs
        QCOMPARE(j["methods"][0].get<std::string>(), std::string("morphoquant"));
        QCOMPARE(j["evals"].size(), size_t(2));
        QVERIFY(std::fabs(j["evals"][1]["ppl"].get<double>() - m_mqPpl) < 1e-9);
        // down_proj inputs are forced (authors' default): every one of their 172 channels masked.
        for (const auto& g : j["groups"]) {
            if (g["name"].get<std::string>().find("down_in") != std::string::npos)
                QCOMPARE(g["masked_channels"].get<int64_t>(), int64_t(172));
            QVERIFY(g["mdqfo_loss_final"].get<double>() <= g["mdqfo_loss_initial"].get<double>());
        }
        // The file reopens with the same content through the library too.
        const auto s = mq::core::loadSession(m_tmp.filePath("mq.mqs").toStdString());
        QCOMPARE(s.calibration.totalTokens(), int64_t(16448));
        QCOMPARE(s.evals.back().ppl, j["evals"][1]["ppl"].get<double>());
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
    }

    void helpForEveryCommand_data()
    {
        QTest::addColumn<QString>("cmd");
        for (const char* c : {"eval", "quantize", "inspect", "calibrate", "make-tiny-omni"})
            QTest::newRow(c) << c;
    }
    void helpForEveryCommand()
    {
        QFETCH(QString, cmd);
        Run r = cli({cmd, "--help"});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith("usage: morphoquant-cli " + cmd));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
