// Rotations (quant/rotation.h): the Hadamard constructions, orthogonality, a rotated model that
// computes the same function, and rotation carried through calibrate, plan and session.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "test_util.h"

#include "calib/calib_data.h"
#include "engine.h"
#include "export/hf_export.h"
#include "io/atomic_file.h"
#include "eval/perplexity.h"
#include "io/session_store.h"
#include "io/token_data.h"
#include "model/decoder.h"
#include "model/tiny_omni.h"
#include "pipeline.h"
#include "quant/quant_linear.h"
#include "quant/rotation.h"
#include "streaming.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

using namespace mq::core;

namespace {

QuantSettings rtnW4A4()
{
    QuantSettings st;
    st.method = "rtn";
    st.abits = 4;
    st.weight.format = WeightFormat::Int;
    st.weight.bits = 4;
    return st;
}

} // namespace

class TestRotation : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void initTestCase() { at::set_num_threads(1); }

    // +-1 entries and H H^T = n I exactly (integers in float64), for every construction.
    void hadamardConstructions_data()
    {
        QTest::addColumn<int>("n");
        QTest::addColumn<QString>("how");
        QTest::newRow("1") << 1 << "";
        QTest::newRow("64 sylvester") << 64 << "sylvester 64";
        QTest::newRow("12 paley1") << 12 << "paley1 12";
        QTest::newRow("20 paley1 x 1") << 20 << "paley1 20";
        QTest::newRow("36 paley2") << 36 << "paley2 36";
        QTest::newRow("28 paley2") << 28 << "paley2 28";
        QTest::newRow("48 paley1 x sylvester") << 48 << "paley1 12 x sylvester 4";
        QTest::newRow("148 paley2") << 148 << "paley2 148";
        QTest::newRow("296 paley2 x sylvester 2") << 296 << "paley2 148 x sylvester 2";
    }
    void hadamardConstructions()
    {
        QFETCH(int, n);
        QFETCH(QString, how);
        std::string name;
        const at::Tensor h = hadamardPlusMinusOne(n, &name);
        QVERIFY(h.defined());
        QCOMPARE(QString::fromStdString(name), how);
        QCOMPARE(h.size(0), int64_t(n));
        QVERIFY(at::equal(h.abs(), at::ones_like(h)));
        QVERIFY(at::equal(at::matmul(h, h.t()), double(n) * at::eye(n, at::kDouble)));
    }

    // Orders this code has no construction for fall back to a seeded random orthogonal matrix;
    // every matrix is orthogonal within float32 rounding (1e-5 on entries of Q Q^T).
    void orthogonalMatrices()
    {
        QVERIFY(!hadamardPlusMinusOne(172).defined()); // 4 * 43: no Paley order here
        for (int n : {64, 172, 148}) {
            std::string how;
            const at::Tensor q = randomOrthogonal(n, 7, &how);
            QCOMPARE(q.scalar_type(), at::kFloat);
            const double err = (at::matmul(q.to(at::kDouble), q.to(at::kDouble).t()) - at::eye(n, at::kDouble))
                                   .abs().max().item<double>();
            QVERIFY2(err < 1e-5, qPrintable(QString("n=%1 err=%2").arg(n).arg(err)));
            QVERIFY2(QString::fromStdString(how).startsWith(n == 172 ? "random orthogonal" : "hadamard"),
                     how.c_str());
            QVERIFY(at::equal(q, randomOrthogonal(n, 7)));       // reproducible from the seed
            QVERIFY(!at::equal(q, randomOrthogonal(n, 8)));      // and the seed matters
        }
    }

    // The rotated stories260K computes the same function: perplexity within 1e-5 relative
    // (float32 products in another basis), resident and streamed; weights really changed.
    void rotatedModelKeepsPerplexity()
    {
        const std::string dir = mq::test::storiesDir();
        TokenDataset data = loadTokenDataset(dir + "/evaluation.jsonl", 512);
        data.sequences.resize(8);
        for (Residency r : {Residency::Resident, Residency::Streamed}) {
            const DecoderModel m = DecoderModel::load(dir, r);
            const DecoderModel rot = rotateModel(m, "hadamard:3");
            QCOMPARE(rot.rotationKey(), std::string("hadamard:3"));
            QVERIFY(!at::allclose(rot.linearWeight(0), m.linearWeight(0)));
            const double a = evaluateNll(m, data).ppl, b = evaluateNll(rot, data).ppl;
            QVERIFY2(std::abs(b / a - 1.0) < 1e-5, qPrintable(QString("%1 vs %2").arg(a, 0, 'g', 10).arg(b, 0, 'g', 10)));
            const double c = evaluateStreamed(rot, data).ppl;
            QVERIFY2(std::abs(c / a - 1.0) < 1e-5, qPrintable(QString::number(c, 'g', 10)));
            // With the value/output heads turned too: v_proj and o_proj change, q/k do not.
            const DecoderModel heads = rotateModel(m, "hadamard-heads:3");
            QVERIFY(at::equal(heads.linearWeight(0), rot.linearWeight(0)));
            QVERIFY(!at::allclose(heads.linearWeight(2), rot.linearWeight(2)));
            QVERIFY(!at::allclose(heads.linearWeight(3), rot.linearWeight(3)));
            const double d = evaluateStreamed(heads, data).ppl;
            QVERIFY2(std::abs(d / a - 1.0) < 1e-5, qPrintable(QString::number(d, 'g', 10)));
            QVERIFY_THROWS_EXCEPTION(Error, rotateModel(rot, "hadamard:4")); // no double rotation
        }
    }

    // A Qwen2 thinker with q/k/v biases (the tiny Qwen2.5-Omni): the head rotation turns
    // v_proj's bias with its rows; the function is kept within 1e-5 relative.
    void headRotationTurnsTheValueBias()
    {
        const std::string dir = m_tmp.filePath("tiny-omni").toStdString();
        writeTinyOmni(dir, 4);
        const DecoderModel m = DecoderModel::load(dir, Residency::Streamed);
        int v = 0;
        while (m.modules()[size_t(v)].kind != "v_proj")
            ++v;
        QVERIFY(m.linearBias(v).defined());
        const DecoderModel heads = rotateModel(m, "hadamard-heads:1");
        QVERIFY(!at::allclose(heads.linearBias(v), m.linearBias(v)));
        QVERIFY(at::allclose(heads.linearBias(v).norm(), m.linearBias(v).norm(), 1e-5, 1e-6));
        at::Generator gen = at::detail::createCPUGenerator(1);
        const at::Tensor ids = at::randint(0, 200, {2, 24}, gen, at::kLong);
        const at::Tensor a = m.forward(ids), b = heads.forward(ids);
        QVERIFY2(((a - b).norm() / a.norm()).item<double>() < 1e-5, "logits differ");
    }

    // Rotation through the engine: statistics in the rotated basis, the plan says so (settings,
    // label), the session keeps it, and W4A4 per-token RTN gains from it (on stories260K the
    // whole evaluation set goes from about 6.2 to about 5.3, bench/README.md; here a subset
    // must at least improve).
    void engineCalibratesAndPlansInTheRotatedBasis()
    {
        const std::string dir = mq::test::storiesDir();
        const std::string evalPath = m_tmp.filePath("eval16.jsonl").toStdString();
        {
            QFile in(QString::fromStdString(dir + "/evaluation.jsonl"));
            QVERIFY(in.open(QIODevice::ReadOnly));
            QFile out(QString::fromStdString(evalPath));
            QVERIFY(out.open(QIODevice::WriteOnly));
            for (int i = 0; i < 16; ++i)
                out.write(in.readLine());
        }
        auto run = [&](const std::string& rotation) {
            Engine e;
            Session s;
            e.openModel(s, dir);
            CalibrationSourceSpec spec{dir + "/calibration.jsonl", "tokens", 8, rotation};
            e.calibrate(s, spec);
            e.quantize(s, rtnW4A4());
            e.evaluate(s, evalPath, false, 8);
            return s;
        };
        const Session plain = run(""), rot = run("hadamard:0");
        QCOMPARE(rot.calibration.rotation, std::string("hadamard:0"));
        QVERIFY(rot.settings && rot.settings->rotation == "hadamard:0");
        QVERIFY2(QString::fromStdString(rot.settings->label()).contains("hadamard"), rot.settings->label().c_str());
        QVERIFY2(rot.evals.back().ppl < plain.evals.back().ppl,
                 qPrintable(QString("rotated %1, plain %2").arg(rot.evals.back().ppl).arg(plain.evals.back().ppl)));
        const std::string path = m_tmp.filePath("rot.mqs").toStdString();
        saveSession(rot, path);
        const Session back = loadSession(path);
        QCOMPARE(back.calibration.rotation, rot.calibration.rotation);
        QCOMPARE(back.settings->rotation, rot.settings->rotation);
        // compressed-tensors cannot name the online down_proj rotation: refused before anything
        // is written, pointing at the formats that carry it.
        Engine e;
        Session s = back;
        const std::string out = m_tmp.filePath("rot-export").toStdString();
        try {
            e.exportModel(s, out, false, {}, nullptr, ExportFormat::CompressedTensors);
            QFAIL("a rotated plan was exported as compressed-tensors");
        } catch (const InputError& err) {
            QVERIFY2(QString(err.what()).contains("--export-format morphoquant"), err.what());
        }
        QVERIFY(!QFileInfo::exists(QString::fromStdString(out)));
    }

    // A rotated plan exported in the formats that carry the rotation (morphoquant-sim: float
    // weights on the grid; morphoquant: packed int4) evaluates back to the plan's perplexity:
    // the reader rebuilds the rotation from the record (norms folded, q, the online down_proj h,
    // the value heads) around weights already in the rotated basis. The weights are the plan's
    // bit for bit and the forward is the same computation, so 1e-9 relative (the issue asks
    // 1e-3). A record that this build cannot reproduce, or that disagrees with the settings, is
    // refused naming config.json.
    void rotatedExportsEvaluateBack_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<int>("format");
        QTest::newRow("rtn morphoquant-sim") << "rtn" << int(ExportFormat::MorphoquantSim);
        QTest::newRow("rtn morphoquant") << "rtn" << int(ExportFormat::Morphoquant);
        QTest::newRow("morphoquant morphoquant") << "morphoquant" << int(ExportFormat::Morphoquant);
    }
    void rotatedExportsEvaluateBack()
    {
        QFETCH(QString, method);
        QFETCH(int, format);
        const std::string dir = mq::test::storiesDir();
        const std::string calib = m_tmp.filePath("calib8.jsonl").toStdString();
        const std::string evalPath = m_tmp.filePath("eval8.jsonl").toStdString();
        for (const auto& [from, to] : {std::pair{dir + "/calibration.jsonl", calib}, std::pair{dir + "/evaluation.jsonl", evalPath}}) {
            QFile in(QString::fromStdString(from)), o(QString::fromStdString(to));
            QVERIFY(in.open(QIODevice::ReadOnly) && o.open(QIODevice::WriteOnly));
            for (int i = 0; i < 8; ++i)
                o.write(in.readLine());
        }
        Engine e;
        Session s;
        e.openModel(s, dir);
        e.calibrate(s, CalibrationSourceSpec{calib, "tokens", 8, "hadamard-heads:3"});
        QuantSettings st = rtnW4A4();
        st.method = method.toStdString();
        e.quantize(s, st);
        e.evaluate(s, evalPath, false, 8);
        const double planned = s.evals.back().ppl;
        const std::string out = m_tmp.filePath(QString("rot-%1").arg(QTest::currentDataTag()).replace(' ', '-')).toStdString();
        e.exportModel(s, out, false, {}, nullptr, ExportFormat(format));

        auto evalFolder = [&] {
            LoadedModel lm = loadModelForEval(out, Residency::Streamed);
            const TokenDataset d = loadTokenDataset(evalPath, lm.model.config().vocabSize, lm.model.config().maxPositions);
            QuantSimHook hook(*lm.settings, lm.groups);
            return std::pair{evaluateStreamed(lm.model, d, &hook, 8).ppl, lm.model.rotationKey()};
        };
        const auto [back, key] = evalFolder();
        QCOMPARE(key, std::string("hadamard-heads:3"));
        QVERIFY2(std::fabs(back - planned) <= 1e-9 * planned,
                 qPrintable(QString("plan %1, export %2").arg(planned, 0, 'g', 12).arg(back, 0, 'g', 12)));
        // Read as an unrotated model, the same weights give something else: the record matters.
        {
            nlohmann::json cfg = nlohmann::json::parse(readTextFile(out + "/config.json"));
            const nlohmann::json saved = cfg;
            cfg["quantization_config"]["rotation"]["residual"]["checksum"] =
                cfg["quantization_config"]["rotation"]["residual"]["checksum"].get<double>() + 1.0;
            writeFileAtomic(out + "/config.json", cfg.dump(2));
            try {
                loadModelForEval(out, Residency::Streamed);
                QFAIL("a rotation record with another checksum was read");
            } catch (const InputError& err) {
                QVERIFY2(QString(err.what()).contains("config.json") && QString(err.what()).contains("residual"), err.what());
            }
            cfg = saved;
            cfg["quantization_config"]["rotation"]["key"] = "hadamard:3";
            writeFileAtomic(out + "/config.json", cfg.dump(2));
            try {
                loadModelForEval(out, Residency::Streamed);
                QFAIL("a rotation record naming another key was read");
            } catch (const InputError& err) {
                QVERIFY2(QString(err.what()).contains("hadamard:3"), err.what());
            }
            // Without the rotation (record and settings dropped) the same weights make another,
            // much worse model: the reader's rotation is what gives the plan's figure back.
            cfg = saved;
            cfg["quantization_config"].erase("rotation");
            cfg["quantization_config"]["settings"].erase("rotation");
            writeFileAtomic(out + "/config.json", cfg.dump(2));
            const auto [unrotated, none] = evalFolder();
            QCOMPARE(none, std::string());
            QVERIFY2(!(std::fabs(unrotated - planned) <= 0.01 * planned), qPrintable(QString::number(unrotated)));
            writeFileAtomic(out + "/config.json", saved.dump(2));
        }
        QCOMPARE(evalFolder().first, back);
    }
};

QTEST_GUILESS_MAIN(TestRotation)
#include "tst_rotation.moc"
