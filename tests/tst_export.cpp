// Deployable exports (export/packed_export.h, export/check_export.h): the int32 packing against
// FORMATS.md's worked examples, every export format written from a real plan and evaluated back
// from its packed tensors (stories260K, and a bf16 synthetic model for NVFP4 and bf16 scales),
// the size of the packed Linears, sharding, refusals that write nothing, and check-export's
// verdicts on good and broken folders.
#include <ATen/ATen.h>

#include "test_util.h"

#include "engine.h"
#include "export/check_export.h"
#include "export/hf_export.h"
#include "export/packed_export.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "io/token_data.h"
#include "model/synthetic.h"
#include "quant/act_quant.h"
#include "quant/formats.h"
#include "quant/quant_linear.h"
#include "quant/weight_quant.h"
#include "streaming.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace mq::core;
namespace fs = std::filesystem;

namespace {

std::string stories() { return mq::test::storiesDir(); }

QuantSettings rtn(int wbits, int abits)
{
    QuantSettings q;
    q.method = "rtn";
    q.weight.format = WeightFormat::Int;
    q.weight.bits = wbits;
    q.abits = abits;
    return q;
}

// Perplexity of a folder as eval --model reads it.
double evalFolder(const std::string& dir, const std::string& data)
{
    LoadedModel lm = loadModelForEval(dir, Residency::Streamed);
    const TokenDataset d = loadTokenDataset(data, lm.model.config().vocabSize, lm.model.config().maxPositions);
    std::unique_ptr<QuantSimHook> hook;
    if (lm.settings)
        hook = std::make_unique<QuantSimHook>(*lm.settings, lm.groups);
    return evaluateStreamed(lm.model, d, hook.get(), 8).ppl;
}

void editConfig(const std::string& dir, const std::function<void(nlohmann::json&)>& fn)
{
    nlohmann::json cfg = nlohmann::json::parse(readTextFile(dir + "/config.json"));
    fn(cfg["quantization_config"]);
    writeFileAtomic(dir + "/config.json", cfg.dump(2));
}

bool anyContains(const std::vector<std::string>& v, const std::string& needle)
{
    for (const std::string& s : v)
        if (s.find(needle) != std::string::npos)
            return true;
    return false;
}

} // namespace

class TestExport : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    Engine m_engine;
    Session m_calibrated; // stories260K, calibrated on its first 16 sequences
    std::string m_eval;   // the first 16 evaluation sequences
    std::string m_wide;   // a bf16 synthetic model (hidden 256, 1 layer)
    Session m_wideCalibrated;

    std::string path(const std::string& name) const { return (fs::path(m_tmp.path().toStdString()) / name).string(); }

    void head(const std::string& from, const std::string& to, int n)
    {
        std::ifstream in(from);
        std::ofstream out(to);
        std::string line;
        for (int i = 0; i < n && std::getline(in, line); ++i)
            out << line << '\n';
    }

    // quantize(settings) on a copy of the calibrated session, its perplexity on m_eval, then the
    // export in `format`, evaluated back.
    std::pair<double, double> roundTrip(Session base, const QuantSettings& st, ExportFormat format,
                                        const std::string& dir, const std::string& eval)
    {
        m_engine.quantize(base, st);
        m_engine.evaluate(base, eval, false);
        const double planned = base.evals.back().ppl;
        m_engine.exportModel(base, dir, false, {}, nullptr, format);
        return {planned, evalFolder(dir, eval)};
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        const std::string calib = path("calib.jsonl");
        head(stories() + "/calibration.jsonl", calib, 16);
        m_eval = path("eval.jsonl");
        head(stories() + "/evaluation.jsonl", m_eval, 16);
        m_engine.openModel(m_calibrated, stories());
        CalibrationSourceSpec spec;
        spec.path = calib;
        m_engine.calibrate(m_calibrated, spec);
        SyntheticSpec ws;
        ws.shape = "test-wide";
        ws.layers = 1;
        ws.calibSequences = 4;
        ws.evalSequences = 4;
        ws.sequenceLength = 64;
        m_wide = path("wide");
        writeSynthetic(m_wide, ws, false);
        m_engine.openModel(m_wideCalibrated, m_wide);
        CalibrationSourceSpec wideCalib;
        wideCalib.path = m_wide + "/calibration.jsonl";
        m_engine.calibrate(m_wideCalibrated, wideCalib);
    }

    // FORMATS.md section 4: q = [7,-8,2,1,-1,0,0,0] -> word 0x88879A0F; element i of a row in
    // bits 4i; a row of 172 values takes 22 words (the last half padded with zero bits); 8-bit
    // values four per word.
    void int32PackingWorkedExample()
    {
        const std::vector<int8_t> q = {7, -8, 2, 1, -1, 0, 0, 0};
        const std::vector<int32_t> w = fmt::packToInt32(q.data(), 1, 8, 4);
        QCOMPARE(w.size(), size_t(1));
        QCOMPARE(uint32_t(w[0]), 0x88879A0Fu);
        QCOMPARE(w[0], -2004379121);
        QCOMPARE(fmt::unpackFromInt32(w.data(), 1, 8, 4), q);
        // A partial word: 12 values -> 2 words, the second holding 4 values and 16 zero bits.
        std::vector<int8_t> q12(q);
        q12.insert(q12.end(), {-8, 7, 0, 3});
        const std::vector<int32_t> w12 = fmt::packToInt32(q12.data(), 1, 12, 4);
        QCOMPARE(w12.size(), size_t(2));
        QCOMPARE(uint32_t(w12[1]), 0x0000B8F0u); // nibbles 0,15,8,11 from the low end
        QCOMPARE(fmt::packedInt32Cols(172, 4), int64_t(22));
        // 8 bits: q + 128, element i at bits 8i.
        const std::vector<int8_t> q8 = {-128, 127, 0, -1};
        const std::vector<int32_t> w8 = fmt::packToInt32(q8.data(), 1, 4, 8);
        QCOMPARE(uint32_t(w8[0]), 0x7F80FF00u); // u = 0, 255, 128, 127
        QCOMPARE(fmt::unpackFromInt32(w8.data(), 1, 4, 8), q8);
        const std::vector<int8_t> bad = {8};
        QVERIFY_EXCEPTION_THROWN(fmt::packToInt32(bad.data(), 1, 1, 4), InputError);
    }

    // Every integer format from stories260K (float32: scales stored as they are), evaluated back
    // from the packed tensors. The issue asks for 1e-3 relative; the packed weights are the
    // plan's bit for bit (the exporter checks it), so the figures agree to the last digit, and
    // the test holds 1e-9 (summation order is the same; only the weights' source differs).
    void integerFormatsEvaluateBack_data()
    {
        QTest::addColumn<int>("wbits");
        QTest::addColumn<int>("abits");
        QTest::addColumn<bool>("asym");
        QTest::addColumn<int>("group");
        QTest::addColumn<QString>("method");
        QTest::addColumn<int>("format");
        QTest::addColumn<QString>("ctFormat");
        QTest::addColumn<QString>("scheme");
        QTest::newRow("ct-w4a16-ch") << 4 << 16 << false << 0 << "rtn" << int(ExportFormat::CompressedTensors)
                                     << "pack-quantized" << "CompressedTensorsWNA16";
        QTest::newRow("ct-w4a16-asym-g4") << 4 << 16 << true << 4 << "rtn" << int(ExportFormat::CompressedTensors)
                                          << "pack-quantized" << "CompressedTensorsWNA16";
        QTest::newRow("ct-w4a4") << 4 << 4 << false << 0 << "rtn" << int(ExportFormat::CompressedTensors)
                                 << "pack-quantized" << "CompressedTensorsWNA4Int";
        QTest::newRow("ct-w8a8") << 8 << 8 << false << 0 << "rtn" << int(ExportFormat::CompressedTensors)
                                 << "int-quantized" << "CompressedTensorsW8A8Int8";
        QTest::newRow("morphoquant-w4a4") << 4 << 4 << false << 0 << "morphoquant" << int(ExportFormat::Morphoquant)
                                          << "morphoquant-packed" << "";
    }
    void integerFormatsEvaluateBack()
    {
        QFETCH(int, wbits);
        QFETCH(int, abits);
        QFETCH(bool, asym);
        QFETCH(int, group);
        QFETCH(QString, method);
        QFETCH(int, format);
        QFETCH(QString, ctFormat);
        QFETCH(QString, scheme);
        QuantSettings st = rtn(wbits, abits);
        st.method = method.toStdString();
        st.weight.symmetric = !asym;
        st.weight.groupSize = group;
        const std::string dir = path(std::string("int-") + QTest::currentDataTag());
        const auto [planned, back] = roundTrip(m_calibrated, st, ExportFormat(format), dir, m_eval);
        QVERIFY2(std::fabs(planned - back) <= 1e-9 * planned,
                 qPrintable(QString("plan %1, export %2").arg(planned, 0, 'g', 12).arg(back, 0, 'g', 12)));
        QVERIFY(planned > 1.0 && std::isfinite(planned));
        const ExportCheck c = checkExport(dir);
        QVERIFY2(c.ok(), c.errors.empty() ? "" : c.errors.front().c_str());
        QCOMPARE(QString::fromStdString(c.format), ctFormat);
        QVERIFY2(QString::fromStdString(c.scheme).startsWith(scheme), c.scheme.c_str());
        QCOMPARE(c.packedLinears, 35);
        // no float weight of a decoder Linear is left in the folder
        Checkpoint ck(dir);
        QVERIFY(!ck.contains("model.layers.0.self_attn.q_proj.weight") || ctFormat == "int-quantized");
        if (ctFormat == "int-quantized")
            QCOMPARE(ck.storedInfo("model.layers.0.self_attn.q_proj.weight").dtype, DType::I8);
    }

    // A SmoothQuant plan exports with 1/s folded into the RMSNorm weights (float32) and diag(s)
    // in the q/k/v and gate/up weights before they are rounded: the folder is the plain model the
    // plan simulates, read back without any smoothing at run time. The plan's evaluation folds
    // 1/s into the norms the same way (makeQuantizedModel with foldSmoothing), so the figures
    // agree to the last bit: 1e-9 relative (the issue asks 1e-3). Dividing in the hook instead,
    // (x g) / s against x (g / s), is an ulp apart, and the per-token grids amplified that to
    // 7e-4 relative at W8A8 before the evaluation folded too.
    void smoothedExportsEvaluateBack_data()
    {
        QTest::addColumn<int>("wbits");
        QTest::addColumn<int>("abits");
        QTest::addColumn<int>("format");
        QTest::newRow("sim-w8a8") << 8 << 8 << int(ExportFormat::MorphoquantSim);
        QTest::newRow("ct-w8a8") << 8 << 8 << int(ExportFormat::CompressedTensors);
        QTest::newRow("ct-w4a16") << 4 << 16 << int(ExportFormat::CompressedTensors);
        QTest::newRow("morphoquant-w4a4") << 4 << 4 << int(ExportFormat::Morphoquant);
    }
    void smoothedExportsEvaluateBack()
    {
        QFETCH(int, wbits);
        QFETCH(int, abits);
        QFETCH(int, format);
        QuantSettings st = rtn(wbits, abits);
        st.smooth = true;
        st.smoothAlpha = 0.5;
        const std::string dir = path(std::string("smooth-") + QTest::currentDataTag());
        const auto [planned, back] = roundTrip(m_calibrated, st, ExportFormat(format), dir, m_eval);
        qInfo("plan %.12g, export %.12g (%.2g relative)", planned, back, std::fabs(back - planned) / planned);
        QVERIFY2(std::fabs(planned - back) <= 1e-9 * planned,
                 qPrintable(QString("plan %1, export %2").arg(planned, 0, 'g', 12).arg(back, 0, 'g', 12)));
        // The norms hold 1/s: layer 0's input_layernorm is the source's divided by q/k/v's factors.
        Checkpoint src(stories()), out(dir);
        const std::string norm = "model.layers.0.input_layernorm.weight";
        QCOMPARE(out.storedInfo(norm).dtype, DType::F32);
        QVERIFY(!at::allclose(out.loadFloat(norm), src.loadFloat(norm)));
        const nlohmann::json cfg = nlohmann::json::parse(readTextFile(dir + "/config.json"));
        QVERIFY(cfg["quantization_config"].dump().find("SmoothQuant factors folded") != std::string::npos);
        if (format != int(ExportFormat::MorphoquantSim)) {
            const ExportCheck c = checkExport(dir);
            QVERIFY2(c.ok(), c.errors.empty() ? "" : c.errors.front().c_str());
        }
        // ... exactly: source / the plan's factors of layer 0's q/k/v group, in float32.
        Session s = m_calibrated;
        m_engine.quantize(s, st);
        const std::vector<float>& f = s.plans.at("layers.0.qkv_in").smooth;
        QVERIFY(!f.empty());
        const at::Tensor want = src.loadFloat(norm) / at::tensor(f, at::TensorOptions().dtype(at::kFloat));
        QVERIFY(at::equal(out.loadFloat(norm), want));
    }

    // The per-group clip ratios of a clip search and the static per-tensor ranges travel in a
    // morphoquant-sim export (morphoquant.<group>.act_clip / .act_range), so the folder evaluates
    // to the plan's figure: 1e-9 relative, as above (the same arithmetic on the same values).
    void activationRangesEvaluateBack_data()
    {
        QTest::addColumn<QString>("scheme");
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("search");
        QTest::addColumn<bool>("asym");
        QTest::addColumn<bool>("smooth");
        QTest::addColumn<int>("groupSize");
        QTest::newRow("per-token-search") << "per-token-dynamic" << 4 << 6 << false << false << 0;
        QTest::newRow("per-token-groups-search") << "per-token-dynamic" << 4 << 6 << true << false << 32;
        QTest::newRow("per-tensor-static-search-smooth") << "per-tensor-static" << 8 << 6 << false << true << 0;
        QTest::newRow("per-tensor-static-asym") << "per-tensor-static" << 8 << 0 << true << false << 0;
        QTest::newRow("per-tensor-dynamic-search") << "per-tensor-dynamic" << 8 << 6 << false << false << 0;
    }
    void activationRangesEvaluateBack()
    {
        QFETCH(QString, scheme);
        QFETCH(int, bits);
        QFETCH(int, search);
        QFETCH(bool, asym);
        QFETCH(bool, smooth);
        QFETCH(int, groupSize);
        QuantSettings st = rtn(bits, bits);
        st.actGroupSize = groupSize;
        st.act = parseActScheme(scheme.toStdString());
        st.actClipSearch = search;
        st.actAsym = asym;
        st.smooth = smooth;
        const std::string dir = path(std::string("ranges-") + QTest::currentDataTag());
        const auto [planned, back] = roundTrip(m_calibrated, st, ExportFormat::MorphoquantSim, dir, m_eval);
        QVERIFY2(std::fabs(planned - back) <= 1e-9 * planned,
                 qPrintable(QString("plan %1, export %2").arg(planned, 0, 'g', 12).arg(back, 0, 'g', 12)));
        Checkpoint out(dir);
        const std::string g0 = "morphoquant.layers.0.qkv_in";
        QCOMPARE(out.contains(g0 + ".act_clip"), search > 0);
        QCOMPARE(out.contains(g0 + ".act_range"), scheme == "per-tensor-static");
        if (scheme == "per-tensor-static") { // the calibration range of q/k/v's input (smoothed)
            Session s = m_calibrated;
            m_engine.quantize(s, st);
            const DecoderModel m = DecoderModel::load(stories(), Residency::Streamed);
            const GroupQuant g = groupQuantFromPlan(m, s)[0];
            const at::Tensor r = out.loadFloat(g0 + ".act_range");
            QCOMPARE(r[0].item<float>(), float(g.rangeMin));
            QCOMPARE(r[1].item<float>(), float(g.rangeMax));
            QVERIFY(g.rangeMin < 0.0 && g.rangeMax > 0.0);
            // A damaged range is refused with the tensor named, nothing evaluated.
            const std::string bad = path(std::string("ranges-bad-") + QTest::currentDataTag());
            fs::copy(dir, bad, fs::copy_options::recursive);
            {
                Checkpoint ck(bad);
                const std::string file = ck.fileOf(g0 + ".act_range");
                const TensorInfo ti = ck.info(g0 + ".act_range");
                // overwrite the two float32 values with (1, -1): minimum above maximum
                std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
                uint64_t header = 0;
                f.read(reinterpret_cast<char*>(&header), 8);
                const float swapped[2] = {1.0f, -1.0f};
                f.seekp(std::streamoff(8 + header + ti.begin));
                f.write(reinterpret_cast<const char*>(swapped), sizeof swapped);
            }
            const auto err = inputErrorOf([&] { evalFolder(bad, m_eval); });
            QVERIFY(err.has_value());
            QVERIFY2(contains(*err, "act_range") && contains(*err, "minimum above its maximum"), err->c_str());
        }
        // The morphoquant format refuses per-tensor activations before anything runs (W8A8 static
        // per tensor goes to compressed-tensors: staticPerTensorW8A8).
        if (scheme != "per-token-dynamic")
            QVERIFY(contains(exportRefusal(st, ExportFormat::Morphoquant), "per-tensor"));
        if (groupSize > 0)
            QVERIFY(contains(exportRefusal(st, ExportFormat::Morphoquant), "--agroup-size"));
    }

    // SmoothQuant's W8A8 as vLLM serves it: INT8 weights per output channel and static per-tensor
    // INT8 activations, an input_scale per Linear (the clip ratio folded in). The folder reads
    // back to the plan's perplexity (1e-9: the stored float32 scale is the one the plan used),
    // check-export names the scheme, and fused q/k/v (gate/up) share one scale.
    void staticPerTensorW8A8()
    {
        QuantSettings st = rtn(8, 8);
        st.act = ActScheme::PerTensorStatic;
        st.actClipSearch = 6;
        st.smooth = true;
        st.weight.scaleDtype = ScaleDtype::F32;
        const std::string dir = path("ct-w8a8-static");
        const auto [planned, back] = roundTrip(m_calibrated, st, ExportFormat::CompressedTensors, dir, m_eval);
        QVERIFY2(std::fabs(planned - back) <= 1e-9 * planned,
                 qPrintable(QString("plan %1, export %2").arg(planned, 0, 'g', 12).arg(back, 0, 'g', 12)));
        const ExportCheck c = checkExport(dir);
        QVERIFY2(c.ok(), c.errors.empty() ? "" : c.errors.front().c_str());
        QVERIFY2(contains(c.scheme, "static per-tensor"), c.scheme.c_str());
        const nlohmann::json cfg = nlohmann::json::parse(readTextFile(dir + "/config.json"));
        const nlohmann::json ia = cfg["quantization_config"]["config_groups"]["group_0"]["input_activations"];
        QCOMPARE(ia["strategy"].get<std::string>(), std::string("tensor"));
        QVERIFY(ia["dynamic"] == false);
        QCOMPARE(cfg["quantization_config"]["format"].get<std::string>(), std::string("int-quantized"));
        // The stored scale is the plan's: clip * max(|min|, |max|) of the smoothed range / 127.
        Session s = m_calibrated;
        m_engine.quantize(s, st);
        const DecoderModel m = DecoderModel::load(stories(), Residency::Streamed);
        const GroupQuant g = groupQuantFromPlan(m, s)[0];
        const double clip = double(float(g.tokenClip > 0.0 ? g.tokenClip : 1.0));
        Checkpoint out(dir);
        const float q = out.loadFloat("model.layers.0.self_attn.q_proj.input_scale").item<float>();
        QCOMPARE(q, perTensorScale(g.rangeMin, g.rangeMax, clip, 8));
        QCOMPARE(out.loadFloat("model.layers.0.self_attn.v_proj.input_scale").item<float>(), q);
        // A scale that breaks the fused rule is named by check-export and by the reader.
        const std::string bad = path("ct-w8a8-static-bad");
        fs::copy(dir, bad, fs::copy_options::recursive);
        {
            Checkpoint ck(bad);
            const std::string name = "model.layers.0.self_attn.v_proj.input_scale";
            const std::string file = ck.fileOf(name);
            const TensorInfo ti = ck.info(name);
            std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
            uint64_t header = 0;
            f.read(reinterpret_cast<char*>(&header), 8);
            const float other = q * 2.0f;
            f.seekp(std::streamoff(8 + header + ti.begin));
            f.write(reinterpret_cast<const char*>(&other), sizeof other);
        }
        const ExportCheck broken = checkExport(bad);
        QVERIFY(!broken.ok());
        QVERIFY(anyContains(broken.errors, "input_scale") && anyContains(broken.errors, "fused"));
        const auto err = inputErrorOf([&] { evalFolder(bad, m_eval); });
        QVERIFY(err.has_value() && contains(*err, "v_proj.input_scale"));
        QVERIFY(exportRefusal(st, ExportFormat::CompressedTensors).empty());
        QuantSettings w4 = st;
        w4.weight.bits = 4;
        QVERIFY(contains(exportRefusal(w4, ExportFormat::CompressedTensors), "W8A8"));
        QuantSettings asym = st;
        asym.actAsym = true;
        QVERIFY(contains(exportRefusal(asym, ExportFormat::CompressedTensors), "symmetric static"));
        QuantSettings dyn = st;
        dyn.act = ActScheme::PerTensorDynamic;
        QVERIFY(contains(exportRefusal(dyn, ExportFormat::CompressedTensors), "per-tensor"));
    }

    // A compressed-tensors folder written by another tool has no "morphoquant" key: the settings
    // come from the compressed-tensors fields alone, and the figure is the same.
    void thirdPartyConfigReadsTheSame()
    {
        const std::string dir = path("int-ct-w4a4");
        QVERIFY(fs::exists(dir)); // from integerFormatsEvaluateBack
        const double before = evalFolder(dir, m_eval);
        editConfig(dir, [](nlohmann::json& qc) { qc.erase("morphoquant"); });
        QCOMPARE(evalFolder(dir, m_eval), before);
        // and a malformed one is refused with the file named
        editConfig(dir, [](nlohmann::json& qc) { qc["config_groups"]["group_0"]["weights"]["num_bits"] = 3; });
        const auto err = inputErrorOf([&] { loadModelForEval(dir); });
        QVERIFY(err.has_value());
        QVERIFY2(contains(*err, "config.json") && contains(*err, "3-bit"), err->c_str());
    }

    // Each packed Linear of the W4A16 export (weight_packed, weight_scale, weight_shape) takes at
    // most a seventh of its float32 weight's bytes.
    void packedLinearsAreSmall()
    {
        const std::string dir = path("int-ct-w4a16-ch");
        QVERIFY(fs::exists(dir));
        Checkpoint ck(dir);
        const DecoderModel fp = DecoderModel::load(stories(), Residency::Streamed);
        for (const ModuleInfo& m : fp.modules()) {
            uint64_t bytes = 0;
            for (const char* s : {".weight_packed", ".weight_scale", ".weight_shape"}) {
                const TensorInfo& ti = ck.info(m.name + s);
                bytes += ti.end - ti.begin;
            }
            const uint64_t f32 = uint64_t(m.outFeatures * m.inFeatures * 4);
            QVERIFY2(bytes * 7 <= f32, qPrintable(QString("%1: %2 bytes against %3").arg(m.name.c_str()).arg(bytes).arg(f32)));
        }
    }

    // NVFP4 weights and activations on a bf16 model: fused q/k/v and gate/up share their global
    // scales, the scales are E4M3 bytes, and the folder evaluates back to the plan's figure.
    void nvfp4EvaluatesBack()
    {
        Session s = m_wideCalibrated;
        QuantSettings st = rtn(4, 4);
        st.weight.format = WeightFormat::NVFP4;
        st.actFormat = ActFormat::NVFP4;
        const std::string dir = path("nvfp4");
        const auto [planned, back] = roundTrip(s, st, ExportFormat::Nvfp4, dir, m_wide + "/evaluation.jsonl");
        QVERIFY2(std::fabs(planned - back) <= 1e-9 * planned, qPrintable(QString("%1 vs %2").arg(planned).arg(back)));
        Checkpoint ck(dir);
        const std::string p = "model.layers.0.";
        QCOMPARE(ck.info(p + "self_attn.q_proj.weight_scale").dtype, DType::F8_E4M3);
        QCOMPARE(ck.info(p + "self_attn.q_proj.weight_packed").dtype, DType::U8);
        const float gq = ck.loadFloat(p + "self_attn.q_proj.weight_global_scale").item<float>();
        QCOMPARE(ck.loadFloat(p + "self_attn.k_proj.weight_global_scale").item<float>(), gq);
        QCOMPARE(ck.loadFloat(p + "self_attn.v_proj.weight_global_scale").item<float>(), gq);
        QCOMPARE(ck.loadFloat(p + "mlp.up_proj.weight_global_scale").item<float>(),
                 ck.loadFloat(p + "mlp.gate_proj.weight_global_scale").item<float>());
        QCOMPARE(ck.loadFloat(p + "self_attn.k_proj.input_global_scale").item<float>(),
                 ck.loadFloat(p + "self_attn.q_proj.input_global_scale").item<float>());
        const ExportCheck c = checkExport(dir);
        QVERIFY2(c.ok(), c.errors.empty() ? "" : c.errors.front().c_str());
        QVERIFY2(contains(c.scheme, "W4A4Fp4"), c.scheme.c_str());

        // A global scale that differs between fused siblings breaks vLLM's fused load.
        std::map<std::string, at::Tensor> all;
        for (const std::string& n : ck.tensorNames())
            all[n] = ck.load(n).clone();
        all[p + "self_attn.k_proj.weight_global_scale"] = at::full({1}, gq * 2.f, at::kFloat);
        const std::string broken = path("nvfp4-broken");
        fs::create_directories(broken);
        fs::copy_file(dir + "/config.json", broken + "/config.json");
        std::map<std::string, at::Tensor> plain;
        std::vector<TensorSpec> specs;
        for (const auto& [n, t] : all)
            specs.push_back(TensorSpec{n, ck.info(n).dtype, t.sizes().vec()});
        writeShardedCheckpoint(broken, specs, int64_t(1) << 30, false, {}, [&](const TensorSpec& sp, SafetensorsStreamWriter& w) {
            w.write(sp.name, all[sp.name]);
        });
        const ExportCheck b = checkExport(broken);
        QVERIFY(!b.ok());
        QVERIFY2(anyContains(b.errors, "fused projections must share"), b.errors.front().c_str());
    }

    // bf16 model, integer weights: the scales are rounded to bf16 before the weights are (the
    // exporter stores them in the model's dtype), so the folder is still the plan bit for bit.
    void bf16ScalesEvaluateBack()
    {
        Session s = m_wideCalibrated;
        QuantSettings st = rtn(4, 16);
        st.weight.groupSize = 128;
        st.weight.symmetric = false;
        QCOMPARE(modelScaleDtype(m_wide), ScaleDtype::BF16);
        // f32 scales cannot be stored in a bf16 model's compressed-tensors folder: refused, nothing written
        {
            Session f32 = s;
            m_engine.quantize(f32, st);
            const std::string dir = path("ct-bf16-refused");
            const auto err = inputErrorOf([&] { m_engine.exportModel(f32, dir, false, {}, nullptr, ExportFormat::CompressedTensors); });
            QVERIFY(err.has_value());
            QVERIFY2(contains(*err, "--wscale-dtype bf16"), err->c_str());
            QVERIFY(!fs::exists(dir));
        }
        st.weight.scaleDtype = ScaleDtype::BF16;
        const std::string dir = path("ct-bf16");
        const auto [planned, back] = roundTrip(s, st, ExportFormat::CompressedTensors, dir, m_wide + "/evaluation.jsonl");
        QVERIFY2(std::fabs(planned - back) <= 1e-9 * planned, qPrintable(QString("%1 vs %2").arg(planned).arg(back)));
        Checkpoint ck(dir);
        QCOMPARE(ck.info("model.layers.0.mlp.down_proj.weight_scale").dtype, DType::BF16);
        QCOMPARE(ck.info("model.layers.0.mlp.down_proj.weight_zero_point").shape, (std::vector<int64_t>{32, 8}));
        QVERIFY(checkExport(dir).ok());
    }

    // Shards of at most N bytes with an index, evaluated back the same.
    void shardedExport()
    {
        Session s = m_calibrated;
        m_engine.quantize(s, rtn(4, 16));
        m_engine.evaluate(s, m_eval, false);
        const DecoderModel fp = DecoderModel::load(stories(), Residency::Streamed);
        const std::string dir = path("sharded");
        const ExportSummary sum = exportPacked(fp, s, ExportFormat::CompressedTensors, dir, false, nullptr, {}, 64 << 10);
        QVERIFY2(sum.shards > 2, qPrintable(QString::number(sum.shards)));
        QVERIFY(fs::exists(dir + "/model.safetensors.index.json"));
        QVERIFY(checkExport(dir).ok());
        QCOMPARE(evalFolder(dir, m_eval), s.evals.back().ppl);
    }

    // The deployable mode's simulation is the integer GEMM: Q(W diag(s)) times the activation
    // codes round(x / s) gives what the simulation computes, (Q(W diag(s)) diag(1/s)) x_q with
    // x_q = s * codes (float32 rounding: 1e-5 relative to the output's scale). A power-of-two
    // constant s commutes with the weight grid, so folding it changes nothing (exact).
    void deployableIsTheIntegerGemm()
    {
        at::manual_seed(3);
        const int64_t n = 48, k = 64, t = 32;
        const at::Tensor w = at::randn({n, k});
        const at::Tensor x = at::randn({t, k}) * (at::rand({k}) * 4 + 0.1);
        const at::Tensor alpha = x.abs().amax(0) * 0.9;
        WeightQuantSpec spec;
        spec.format = WeightFormat::Int;
        spec.bits = 4;
        const int abits = 4;
        const at::Tensor s = alpha / 7.0;
        const at::Tensor xq = fakeQuantPerChannel(x, alpha, abits);
        const at::Tensor codes = at::clamp(at::round(x / s), -7, 7);
        const at::Tensor wFolded = fakeQuantWeight(w * s.unsqueeze(0), spec); // what the export packs
        const at::Tensor gemm = codes.matmul(wFolded.t());                     // the integer GEMM's result
        const at::Tensor sim = xq.matmul(foldQuantWeight(w, s, spec).t());
        const double scale = gemm.abs().max().item<double>();
        QVERIFY2((gemm - sim).abs().max().item<double>() <= 1e-5 * scale,
                 qPrintable(QString::number((gemm - sim).abs().max().item<double>())));
        // and it is not the simulated mode's product (the weight grid moved)
        QVERIFY((sim - xq.matmul(fakeQuantWeight(w, spec).t())).abs().max().item<double>() > 1e-3 * scale);
        QVERIFY(at::equal(foldQuantWeight(w, at::full({k}, 0.25f), spec), fakeQuantWeight(w, spec)));
    }

    // Deployable MorphoQuant on stories260K: a figure of its own, written as the morphoquant
    // format (the packed codes are Q(W diag(s))) and as morphoquant-sim, both evaluated back to it.
    void deployableExportsEvaluateBack()
    {
        QuantSettings st = rtn(4, 4);
        st.method = "morphoquant";
        const std::string sim = path("int-morphoquant-w4a4");
        QVERIFY(fs::exists(sim)); // the simulated plan's export (integerFormatsEvaluateBack)
        st.mode = "deployable";
        const std::string dir = path("deployable");
        const auto [planned, back] = roundTrip(m_calibrated, st, ExportFormat::Morphoquant, dir, m_eval);
        QVERIFY2(std::fabs(planned - back) <= 1e-9 * planned, qPrintable(QString("%1 vs %2").arg(planned).arg(back)));
        QVERIFY(std::fabs(planned - evalFolder(sim, m_eval)) > 1e-3 * planned); // folding costs something
        Session s = m_calibrated;
        m_engine.quantize(s, st);
        const std::string simDir = path("deployable-sim");
        m_engine.exportModel(s, simDir, false);
        QCOMPARE(evalFolder(simDir, m_eval), planned);
        // the packed codes differ from the simulated plan's
        Checkpoint a(dir), b(sim);
        QVERIFY(!at::equal(a.load("model.layers.1.mlp.down_proj.weight_packed"),
                           b.load("model.layers.1.mlp.down_proj.weight_packed")));
        nlohmann::json cfg = nlohmann::json::parse(readTextFile(dir + "/config.json"));
        QVERIFY(cfg["quantization_config"]["input_activations"]["folded_into_weights"].get<bool>());
        // GPTQ with folding is refused, not silently simulated
        QuantSettings g = st;
        g.gptq.enabled = true;
        Session s2 = m_calibrated;
        QVERIFY(inputErrorOf([&] { m_engine.quantize(s2, g); }).has_value());
    }

    // Plans a format cannot express are refused with the setting named, and nothing is written.
    void refusals()
    {
        QuantSettings mq = rtn(4, 4);
        mq.method = "morphoquant";
        const std::string why = exportRefusal(mq, ExportFormat::CompressedTensors);
        QVERIFY2(contains(why, "per-channel") && contains(why, "morphoquant"), why.c_str());
        QVERIFY(exportRefusal(mq, ExportFormat::Morphoquant).empty());
        QuantSettings asym = rtn(4, 4);
        asym.actAsym = true;
        QVERIFY(contains(exportRefusal(asym, ExportFormat::CompressedTensors), "--aasym"));
        QVERIFY(exportRefusal(asym, ExportFormat::Morphoquant).empty());
        QuantSettings clip = rtn(4, 4);
        clip.actClip = 0.9;
        QVERIFY(contains(exportRefusal(clip, ExportFormat::CompressedTensors), "--aclip"));
        QuantSettings nf4 = rtn(4, 16);
        nf4.weight.format = WeightFormat::NF4;
        QVERIFY(contains(exportRefusal(nf4, ExportFormat::CompressedTensors), "nf4"));
        QVERIFY(contains(exportRefusal(rtn(4, 4), ExportFormat::Nvfp4), "--wformat nvfp4"));
        QuantSettings three = rtn(3, 16);
        QVERIFY(contains(exportRefusal(three, ExportFormat::CompressedTensors), "3-bit"));
        QuantSettings smooth = rtn(4, 4);
        smooth.smooth = true;
        QVERIFY(exportRefusal(smooth, ExportFormat::Morphoquant).empty()); // folded into the norms
        QVERIFY(exportRefusal(smooth, ExportFormat::CompressedTensors).empty());
        smooth.rotation = "hadamard:0"; // a rotated plan's norms are folded already: nowhere to fold into
        QVERIFY(contains(exportRefusal(smooth, ExportFormat::MorphoquantSim), "--smooth"));
        QVERIFY(contains(exportRefusal(smooth, ExportFormat::Morphoquant), "rotated"));
        // A rotated plan: the morphoquant formats carry the rotation, the others cannot name the
        // online down_proj rotation (tst_rotation evaluates rotated exports back).
        QuantSettings rot = rtn(4, 4);
        rot.rotation = "hadamard-heads:0";
        QVERIFY(exportRefusal(rot, ExportFormat::Morphoquant).empty());
        QVERIFY(exportRefusal(rot, ExportFormat::MorphoquantSim).empty());
        QVERIFY(contains(exportRefusal(rot, ExportFormat::CompressedTensors), "hadamard-heads:0"));
        QVERIFY(contains(exportRefusal(rot, ExportFormat::CompressedTensors), "--export-format morphoquant"));
        QVERIFY(exportRefusal(rtn(4, 16), ExportFormat::CompressedTensors).empty());
        // NVFP4 on stories260K: down_proj's 172 inputs are not whole 16-blocks
        QuantSettings nv = rtn(4, 16);
        nv.weight.format = WeightFormat::NVFP4;
        Session s = m_calibrated;
        m_engine.quantize(s, nv);
        const std::string dir = path("refused");
        const auto err = inputErrorOf([&] { m_engine.exportModel(s, dir, false, {}, nullptr, ExportFormat::Nvfp4); });
        QVERIFY(err.has_value());
        QVERIFY2(contains(*err, "down_proj") && contains(*err, "172"), err->c_str());
        QVERIFY(!fs::exists(dir));
    }

    // check-export on folders that break a rule, each named.
    void checkExportFindsBrokenRules()
    {
        const std::string good = path("int-ct-w4a16-ch");
        QVERIFY(fs::exists(good));
        auto broken = [&](const std::string& name, const std::function<void(nlohmann::json&)>& fn) {
            const std::string dir = path("broken-" + name);
            fs::create_directories(dir);
            for (const auto& e : fs::directory_iterator(good))
                fs::copy_file(e.path(), fs::path(dir) / e.path().filename(), fs::copy_options::overwrite_existing);
            editConfig(dir, fn);
            return checkExport(dir);
        };
        ExportCheck c = broken("asym", [](nlohmann::json& qc) { qc["config_groups"]["group_0"]["weights"]["symmetric"] = false; });
        QVERIFY(!c.ok());
        QVERIFY2(anyContains(c.errors, "weight_zero_point is missing"), c.errors.front().c_str());
        c = broken("status", [](nlohmann::json& qc) { qc["quantization_status"] = "frozen"; });
        QVERIFY(anyContains(c.errors, "quantization_status"));
        c = broken("ignored", [](nlohmann::json& qc) { qc["ignore"].push_back("re:.*q_proj"); });
        QVERIFY2(anyContains(c.errors, "packed but matched by ignore"), c.errors.front().c_str());
        c = broken("bits", [](nlohmann::json& qc) { qc["config_groups"]["group_0"]["weights"]["num_bits"] = 8; });
        QVERIFY2(anyContains(c.errors, "weight_packed is I32"), c.errors.front().c_str());
        c = broken("format", [](nlohmann::json& qc) { qc["format"] = "pack-quantised"; });
        QVERIFY(anyContains(c.errors, "not a compressed-tensors format"));
        c = broken("token", [](nlohmann::json& qc) {
            qc["config_groups"]["group_0"]["input_activations"] = {{"num_bits", 4}, {"type", "int"}, {"strategy", "token"}, {"dynamic", false}};
        });
        QVERIFY(anyContains(c.errors, "token needs dynamic true"));
        // an unquantized folder: no errors, no scheme
        const ExportCheck plain = checkExport(stories());
        QVERIFY(plain.ok());
        QVERIFY(plain.scheme.empty());
    }
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
