// The tiny Qwen2.5-Omni checkpoint: real layout (config keys, tensor names, bf16, two shards
// with an index), the thinker loading from it, multimodal RoPE, and quantize + export keeping
// every non-decoder tensor untouched.
#include "test_util.h"

#include "common/error.h"
#include "export/hf_export.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/hf_config.h"
#include "io/token_data.h"
#include "model/decoder.h"
#include "model/tiny_omni.h"
#include "pipeline.h"

#include <QtTest/QtTest>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

using namespace mq::core;
using nlohmann::json;

class TestOmni : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::string m_dir;

private slots:
    void initTestCase()
    {
        at::set_num_threads(1);
        m_dir = m_tmp.filePath("tiny-omni").toStdString();
        const TinyOmniSummary s = writeTinyOmni(m_dir, 3);
        QCOMPARE(s.shards, 2);
    }

    void layoutIsTheReleasedOne()
    {
        const json cfg = json::parse(readTextFile(m_dir + "/config.json"));
        QCOMPARE(cfg["model_type"].get<std::string>(), std::string("qwen2_5_omni"));
        QCOMPARE(cfg["architectures"][0].get<std::string>(), std::string("Qwen2_5OmniModel"));
        QCOMPARE(cfg["torch_dtype"].get<std::string>(), std::string("bfloat16"));
        for (const char* k : {"thinker_config", "talker_config", "token2wav_config"})
            QVERIFY2(cfg.contains(k), k);
        for (const char* k : {"text_config", "vision_config", "audio_config"})
            QVERIFY2(cfg["thinker_config"].contains(k), k);
        QCOMPARE(cfg["thinker_config"]["text_config"]["rope_scaling"]["mrope_section"], json({2, 3, 3}));

        const json index = json::parse(readTextFile(m_dir + "/model.safetensors.index.json"));
        std::set<std::string> files, prefixes;
        for (const auto& [name, file] : index["weight_map"].items()) {
            files.insert(file.get<std::string>());
            prefixes.insert(name.substr(0, name.find('.', name.find('.') + 1)));
        }
        QCOMPARE(files, (std::set<std::string>{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
        for (const char* p : {"thinker.model", "thinker.visual", "thinker.audio_tower", "thinker.lm_head",
                              "talker.model", "token2wav.code2wav_bigvgan_model"})
            QVERIFY2(prefixes.count(p), p);

        Checkpoint ck(m_dir);
        QVERIFY(ck.sharded());
        int64_t bytes = 0;
        for (const std::string& n : ck.tensorNames()) {
            QVERIFY2(ck.info(n).dtype == DType::BF16, n.c_str());
            bytes += ck.info(n).numel() * 2;
        }
        QCOMPARE(index["metadata"]["total_size"].get<int64_t>(), bytes);
        // Shapes named in QWEN25_OMNI.md, at the tiny sizes.
        QCOMPARE(ck.info("thinker.visual.patch_embed.proj.weight").shape, (std::vector<int64_t>{32, 3, 2, 14, 14}));
        QCOMPARE(ck.info("thinker.audio_tower.conv1.weight").shape, (std::vector<int64_t>{32, 128, 3}));
        QVERIFY(!ck.contains("thinker.audio_tower.layers.0.self_attn.k_proj.bias"));
        QVERIFY(ck.contains("thinker.audio_tower.layers.0.self_attn.q_proj.bias"));
    }

    void thinkerLoads()
    {
        const ModelConfig cfg = loadModelConfig(m_dir + "/config.json");
        QCOMPARE(cfg.container, std::string("qwen2_5_omni"));
        QCOMPARE(cfg.arch, Architecture::Qwen2);
        QVERIFY(cfg.attentionBias);
        QCOMPARE(cfg.mropeSection, (std::vector<int>{2, 3, 3}));
        DecoderModel m = DecoderModel::load(m_dir);
        QCOMPARE(m.tensorPrefix(), std::string("thinker."));
        QCOMPARE(m.modules().front().name, std::string("thinker.model.layers.0.self_attn.q_proj"));
        QCOMPARE(m.modules().size(), size_t(14));
    }

    void multimodalRope()
    {
        DecoderModel m = DecoderModel::load(m_dir);
        at::Tensor ids = at::arange(10, at::kLong).reshape({1, 10}) + 40;
        at::Tensor plain = m.forward(ids);
        // Text: the same position on all three rows is plain RoPE.
        at::Tensor pos = at::arange(10, at::kLong).reshape({1, 1, 10}).expand({3, 1, 10}).contiguous();
        QVERIFY(at::allclose(m.forward(ids, nullptr, {}, pos), plain, 1e-5, 1e-5));
        // An image-like block with its own h/w rows changes the rotation, hence the logits.
        at::Tensor img = pos.clone();
        img[1].narrow(1, 2, 4).copy_(at::tensor(std::vector<int64_t>{2, 2, 3, 3}).reshape({1, 4}));
        img[2].narrow(1, 2, 4).copy_(at::tensor(std::vector<int64_t>{2, 3, 2, 3}).reshape({1, 4}));
        // (random 0.02-scale weights give small attention logits, so the change is small but far
        // above float32 noise, which the text case above shows to be < 1e-6 here)
        const double diff = (m.forward(ids, nullptr, {}, img) - plain).abs().max().item<double>();
        const double same = (m.forward(ids, nullptr, {}, pos) - plain).abs().max().item<double>();
        QVERIFY2(diff > 100 * std::max(same, 1e-9), qPrintable(QStringLiteral("%1 vs %2").arg(diff).arg(same)));
        // Bad shapes are rejected with a clear message.
        QVERIFY_EXCEPTION_THROWN(m.forward(ids, nullptr, {}, at::zeros({2, 1, 10}, at::kLong)), InputError);
    }

    void mismatchedConfigIsAClearError()
    {
        QTemporaryDir other;
        const std::string dir = other.filePath("m").toStdString();
        writeTinyOmni(dir, 1);
        json cfg = json::parse(readTextFile(dir + "/config.json"));
        cfg["thinker_config"]["text_config"]["intermediate_size"] = 96;
        writeFileAtomic(dir + "/config.json", cfg.dump());
        try {
            DecoderModel::load(dir);
            QFAIL("a config that does not match the tensors must be rejected");
        } catch (const InputError& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains("thinker.model.layers.0.mlp.gate_proj.weight") && msg.contains("[96, 64]")
                         && msg.contains("model-00001-of-00002.safetensors"),
                     e.what());
        }
    }

    void quantizeAndExportKeepTheRest()
    {
        DecoderModel m = DecoderModel::load(m_dir);
        TokenDataset data;
        data.path = "generated";
        for (int s = 0; s < 4; ++s) {
            std::vector<int64_t> ids;
            for (int t = 0; t < 32; ++t)
                ids.push_back((s * 37 + t * 11) % 480);
            data.sequences.push_back(ids);
        }
        Session session;
        calibrate(session, m, data, 4);
        QuantSettings st;
        st.method = "morphoquant";
        st.weight.format = WeightFormat::Int;
        st.abits = 4;
        buildPlan(session, m, data, st, 4);
        const std::string out = m_tmp.filePath("q").toStdString();
        exportSimulated(m, session, out, false);
        Checkpoint src(m_dir), dst(out);
        for (const std::string& n : src.tensorNames()) {
            QVERIFY2(dst.contains(n), n.c_str());
            const bool decoderLinear = n.rfind("thinker.model.layers.", 0) == 0 && n.find("_proj.weight") != std::string::npos;
            if (!decoderLinear)
                QVERIFY2(at::equal(src.load(n), dst.load(n)), n.c_str()); // untouched, same dtype
        }
        // The exported thinker evaluates as the simulation it was made from.
        QuantizedModel qm = makeQuantizedModel(m, session);
        const NllResult want = evaluateNll(qm.model, data, qm.hook.get(), 4);
        LoadedModel lm = loadModelForEval(out);
        QVERIFY(lm.settings.has_value());
        QuantSimHook hook(*lm.settings, lm.groups);
        const NllResult got = evaluateNll(lm.model, data, &hook, 4);
        QVERIFY(std::fabs(got.nll - want.nll) <= 1e-6 * std::fabs(want.nll)); // same floats, same ops
    }
};

QTEST_APPLESS_MAIN(TestOmni)
#include "tst_omni.moc"
