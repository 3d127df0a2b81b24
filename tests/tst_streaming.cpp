// The layer-wise (streamed) stages against the in-memory ones they replace in the engine, on
// the really trained stories260K and on the tiny Qwen2.5-Omni with a mixed manifest:
// statistics, DABC masks, MDQFO bounds and curves, layer errors and perplexity. Both paths run
// the same operations on the same batches, so everything is compared bit for bit except the
// perplexity of the chunked lm_head (see evalMatchesInMemory). Also: the hidden-state store
// spills past its budget and reads back exactly; MDQFO's row sample; a streamed export in
// several shards reloads as the same model; resident memory does not grow with depth.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "test_util.h"

#include "calib/calib_data.h"
#include "eval/layer_error.h"
#include "eval/perplexity.h"
#include "export/hf_export.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "model/omni_model.h"
#include "model/synthetic.h"
#include "model/tiny_omni.h"
#include "pipeline.h"
#include "streaming.h"
#include "common/runtime.h"
#include <c10/core/InferenceMode.h>
#include <atomic>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <filesystem>

using namespace mq::core;

namespace {

void compareStats(const ChannelStats& a, const ChannelStats& b, const std::string& what)
{
    QVERIFY2(a.count == b.count, what.c_str());
    QVERIFY2(a.min == b.min && a.max == b.max, what.c_str());
    QVERIFY2(a.sumAbs == b.sumAbs && a.sumSq == b.sumSq, what.c_str());
    QVERIFY2(a.hist == b.hist, what.c_str());
}

// Everything the stages write into a session, compared exactly.
void compareSessions(const Session& a, const Session& b)
{
    QCOMPARE(a.groups, b.groups);
    QCOMPARE(a.stats.size(), b.stats.size());
    for (const auto& [g, st] : a.stats) {
        QVERIFY2(b.stats.count(g), g.c_str());
        const InputStats& o = b.stats.at(g);
        compareStats(st.pooled, o.pooled, g + " pooled");
        for (int m = 0; m < kNumModalities; ++m)
            compareStats(st.perModality[size_t(m)], o.perModality[size_t(m)], g + " modality " + std::to_string(m));
    }
    QCOMPARE(a.calibration.tokens, b.calibration.tokens);
    QCOMPARE(a.plans.size(), b.plans.size());
    for (const auto& [g, p] : a.plans) {
        const GroupPlan& o = b.plans.at(g);
        QVERIFY2(p.mask == o.mask, g.c_str());
        QVERIFY2(p.alpha0 == o.alpha0, g.c_str());
        QVERIFY2(p.alpha == o.alpha, g.c_str());
    }
    QCOMPARE(a.curves.size(), b.curves.size());
    for (size_t i = 0; i < a.curves.size(); ++i) {
        QCOMPARE(a.curves[i].group, b.curves[i].group);
        QCOMPARE(a.curves[i].points.size(), b.curves[i].points.size());
        for (size_t k = 0; k < a.curves[i].points.size(); ++k)
            QCOMPARE(a.curves[i].points[k].total, b.curves[i].points[k].total);
    }
}

void compareErrors(const std::vector<ModuleError>& a, const std::vector<ModuleError>& b)
{
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(a[i].module, b[i].module);
        QCOMPARE(a[i].pooled.tokens, b[i].pooled.tokens);
        QCOMPARE(a[i].pooled.sqnrDb, b[i].pooled.sqnrDb);
        QCOMPARE(a[i].pooled.cosine, b[i].pooled.cosine);
    }
}

QuantSettings morphoquantW4A4()
{
    QuantSettings st;
    st.method = "morphoquant";
    st.abits = 4;
    st.weight.format = WeightFormat::Int;
    st.weight.bits = 4;
    return st;
}

// VmHWM of a finished child's /proc entry is gone; the child reports its own peak.
int64_t peakRssKiB(const QString& output)
{
    for (const QString& line : output.split('\n'))
        if (line.startsWith("peak_rss_kib "))
            return line.mid(13).trimmed().toLongLong();
    return -1;
}

} // namespace

class TestStreaming : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void initTestCase() { at::set_num_threads(1); }

    // A config with fewer layers than the checkpoint, and a sequence past max_position_embeddings:
    // clear errors naming the tensor or line (issue 13: both used to pass without a word).
    void configAndLengthMismatchesAreNamed()
    {
        const std::string dir = m_tmp.filePath("short-config").toStdString();
        std::filesystem::create_directories(dir);
        std::filesystem::copy_file(mq::test::storiesDir() + "/model.safetensors", dir + "/model.safetensors");
        QFile in(QString::fromStdString(mq::test::storiesDir() + "/config.json"));
        QVERIFY(in.open(QIODevice::ReadOnly));
        QByteArray cfg = in.readAll();
        QVERIFY(cfg.contains("\"n_layers\"") || cfg.contains("\"num_hidden_layers\": 5"));
        cfg.replace("\"num_hidden_layers\": 5", "\"num_hidden_layers\": 3");
        writeBytes(QString::fromStdString(dir + "/config.json"), cfg);
        const auto msg = inputErrorOf([&] { DecoderModel::load(dir, Residency::Streamed); });
        QVERIFY(msg.has_value());
        QVERIFY2(contains(*msg, "model.layers.3.") && contains(*msg, "num_hidden_layers 3"), msg->c_str());
        const QString longFile = m_tmp.filePath("long.jsonl");
        QByteArray line = "{\"input_ids\": [1";
        for (int i = 0; i < 600; ++i)
            line += ", 2";
        line += "]}\n";
        writeBytes(longFile, "{\"input_ids\": [1, 2, 3]}\n" + line);
        const auto lmsg = inputErrorOf([&] { loadTokenDataset(longFile.toStdString(), 512, 512); });
        QVERIFY(lmsg.has_value());
        QVERIFY2(contains(*lmsg, "line 2") && contains(*lmsg, "max_position_embeddings (512)"), lmsg->c_str());
        QCOMPARE(loadTokenDataset(longFile.toStdString(), 512).sequences.size(), size_t(2)); // no limit given
    }

    // NaN in a weight: evaluation names the tensor (issue 13: it used to report ppl NaN and
    // exit 0); a sound model has no non-finite tensor.
    void nonFiniteWeightIsNamed()
    {
        const std::string dir = m_tmp.filePath("nan-model").toStdString();
        std::filesystem::create_directories(dir);
        std::filesystem::copy_file(mq::test::storiesDir() + "/config.json", dir + "/config.json");
        Checkpoint ck(mq::test::storiesDir());
        std::map<std::string, at::Tensor> all;
        for (const std::string& name : ck.tensorNames())
            all[name] = ck.load(name).clone();
        all.at("model.layers.2.mlp.up_proj.weight")[3][5] = NAN;
        writeSafetensors(dir + "/model.safetensors", all);
        const DecoderModel m = DecoderModel::load(dir, Residency::Streamed);
        QCOMPARE(m.nonFiniteTensor(), std::string("model.layers.2.mlp.up_proj.weight"));
        QCOMPARE(DecoderModel::load(mq::test::storiesDir(), Residency::Streamed).nonFiniteTensor(), std::string());
        TokenDataset data = loadTokenDataset(mq::test::storiesDir() + "/evaluation.jsonl", 512);
        data.sequences.resize(4);
        const auto msg = inputErrorOf([&] { evaluateStreamed(m, data); });
        QVERIFY(msg.has_value());
        QVERIFY2(contains(*msg, "model.layers.2.mlp.up_proj.weight") && contains(*msg, dir), msg->c_str());
        // Calibration names the weight too, not the data.
        TokenDataset calibData = loadTokenDataset(mq::test::storiesDir() + "/calibration.jsonl", 512);
        calibData.sequences.resize(8);
        Session s;
        const auto cmsg = inputErrorOf([&] { calibrateStreamed(s, m, TokenCalibration(calibData, 8)); });
        QVERIFY(cmsg.has_value());
        QVERIFY2(contains(*cmsg, "tensor model.layers.2.mlp.up_proj.weight holds NaN or Inf"), cmsg->c_str());
        QVERIFY(s.stats.empty()); // nothing stored
    }

    // stories260K, a subset of its calibration set in 3 batches: calibrate, plan (DABC + MDQFO
    // through the quantized earlier layers) and layer errors are identical bit for bit.
    void storiesSessionMatchesInMemory()
    {
        const std::string dir = mq::test::storiesDir();
        TokenDataset all = loadTokenDataset(dir + "/calibration.jsonl", 512);
        all.sequences.resize(12);
        const DecoderModel resident = DecoderModel::load(dir);
        const DecoderModel streamed = DecoderModel::load(dir, Residency::Streamed);
        QVERIFY(streamed.streamed() && !resident.streamed());
        TokenCalibration calib(all, 4);
        Session a, b;
        calibrate(a, resident, calib);
        calibrateStreamed(b, streamed, calib);
        const QuantSettings st = morphoquantW4A4();
        buildPlan(a, resident, calib, st);
        std::vector<ModuleError> fused;
        buildPlanStreamed(b, streamed, calib, st, {}, nullptr, {}, {}, &fused, 2);
        compareSessions(a, b);
        QVERIFY(!a.curves.empty());
        // The errors measured in the plan's own pass equal the separate passes.
        const std::vector<ModuleError> ref = computeLayerErrors(resident, a, calib, 2);
        compareErrors(ref, computeLayerErrorsStreamed(streamed, b, calib, 2));
        compareErrors(ref, fused);
        QCOMPARE(ref.front().pooled.tokens, int64_t(8 * 257)); // two batches of 4, whole

        // rtn: no plan to build, the errors of its per-token quantizer in the same way.
        QuantSettings rtn = st;
        rtn.method = "rtn";
        Session c = b;
        buildPlanStreamed(c, streamed, calib, rtn, {}, nullptr, {}, {}, &fused, 2);
        Session d = a;
        preparePlan(d, rtn);
        compareErrors(computeLayerErrors(resident, d, calib, 2), fused);
    }

    // A decoder layer stopped at each group's input and resumed gives layerForward's output bit
    // for bit, and the hook sees the same inputs.
    void layerAdvanceResumesExactly()
    {
        const DecoderModel m = DecoderModel::load(mq::test::storiesDir());
        at::manual_seed(3);
        const at::Tensor x = at::randn({2, 9, m.config().hiddenSize});
        const at::Tensor tags = at::zeros({18}, at::TensorOptions().dtype(at::kByte));
        const Rotary rot = m.rotary(at::Tensor(), 2, 9);
        const LayerWeights w = m.layerWeights(1);
        const at::Tensor ref = m.layerForward(w, x, nullptr, tags, rot);
        for (int stop = 1; stop <= 4; ++stop) {
            LayerCursor c;
            c.residual = x;
            m.layerAdvance(w, c, stop, nullptr, tags, rot);
            QCOMPARE(c.stage, stop);
            QVERIFY(c.pending.defined());
            // what the hook will see at this stage: the group's input (stage 4: the MLP's hidden)
            const int64_t k = stop == 2 ? m.config().numHeads * m.config().headDim
                                        : (stop == 4 ? m.config().intermediateSize : m.config().hiddenSize);
            QCOMPARE(c.pending.size(1), k);
            // the pending input survives a copy (a spill) unchanged
            c.pending = c.pending.contiguous().clone();
            m.layerAdvance(w, c, 5, nullptr, tags, rot);
            QVERIFY2(at::equal(c.residual, ref), ("resumed at stage " + std::to_string(stop)).c_str());
        }
        LayerCursor done;
        done.residual = x;
        m.layerAdvance(w, done, 5, nullptr, tags, rot);
        QVERIFY_THROWS_EXCEPTION(mq::core::Error, m.layerAdvance(w, done, 5, nullptr, tags, rot));
    }

    // The error sample: whole sequences of the first batches within the element budget, at
    // least one sequence; modality and positions cut with the embeddings.
    void errorSampleKeepsWholeSequencesWithinBudget()
    {
        const std::string dir = mq::test::storiesDir();
        TokenDataset all = loadTokenDataset(dir + "/calibration.jsonl", 512);
        all.sequences.resize(12);
        const DecoderModel m = DecoderModel::load(dir, Residency::Streamed);
        TokenCalibration calib(all, 4);
        const int64_t seq = 257 * m.config().hiddenSize;
        auto sequences = [](const std::vector<DecoderInput>& in) -> int64_t {
            int64_t n = 0;
            for (const DecoderInput& d : in) {
                if (d.ids.size(0) != d.embeds.size(0))
                    return -1; // ids and embeddings cut differently
                n += d.embeds.size(0);
            }
            return n;
        };
        QCOMPARE(sequences(errorInputs(calib, m, 2)), int64_t(8));     // default budget: 2 whole batches
        QCOMPARE(sequences(errorInputs(calib, m, 0)), int64_t(12));    // every batch
        QCOMPARE(sequences(errorInputs(calib, m, 0, 5 * seq)), int64_t(5));
        QCOMPARE(sequences(errorInputs(calib, m, 0, 5 * seq + seq / 2)), int64_t(5)); // no partial sequence
        QCOMPARE(sequences(errorInputs(calib, m, 2, 1)), int64_t(1));  // at least one
        // Omni (one sample per batch, [3, 1, T] positions): whole samples, at least the first.
        const std::string model = m_tmp.filePath("tiny-omni-cut").toStdString();
        writeTinyOmni(model, 6);
        const DecoderModel om = DecoderModel::load(model, Residency::Streamed);
        OmniCalibration oc(model, std::string(MQ_TEST_DATA_DIR) + "/manifest/mixed.jsonl");
        QVERIFY(oc.samples() >= 3);
        const std::vector<DecoderInput> all3 = errorInputs(oc, om, 0);
        QCOMPARE(all3.size(), oc.samples()); // a tiny model: every sample fits
        const std::vector<DecoderInput> one = errorInputs(oc, om, 0, 1);
        QCOMPARE(one.size(), size_t(1));
        QCOMPARE(one[0].positions.dim(), int64_t(3));
        QCOMPARE(one[0].positions.size(2), one[0].embeds.size(1));
    }

    // The same through a budget of 64 KiB: the hidden states live in the spill file.
    void spilledStatesGiveTheSameSession()
    {
        const std::string dir = mq::test::storiesDir();
        TokenDataset all = loadTokenDataset(dir + "/calibration.jsonl", 512);
        all.sequences.resize(8);
        const DecoderModel streamed = DecoderModel::load(dir, Residency::Streamed);
        TokenCalibration calib(all, 2);
        StreamOptions tiny;
        tiny.memBudget = 64 << 10; // one [2, 257, 64] batch is 131 KiB: every batch spills
        Session a, b;
        calibrateStreamed(a, streamed, calib);
        calibrateStreamed(b, streamed, calib, {}, nullptr, tiny);
        std::vector<ModuleError> ea, eb;
        buildPlanStreamed(a, streamed, calib, morphoquantW4A4(), {}, nullptr, {}, {}, &ea, 2);
        buildPlanStreamed(b, streamed, calib, morphoquantW4A4(), {}, nullptr, {}, tiny, &eb, 2);
        compareSessions(a, b);
        compareErrors(ea, eb);
    }

    void stateStoreSpillsAndReadsBack()
    {
        StreamOptions o;
        o.memBudget = 1000;
        StateStore store(o);
        const at::Tensor x = at::randn({10, 20}), y = at::randn({5, 3});
        store.put(0, y);                // 60 bytes: resident
        store.put(1, x);                // 800 bytes more: 860, still resident
        store.put(2, x * 2);            // past 1000: spilled
        QCOMPARE(store.residentBytes(), int64_t(860));
        QCOMPARE(store.spilledBytes(), int64_t(800));
        QVERIFY(at::equal(store.get(2), x * 2));
        store.put(2, x * 3);            // rewritten in place
        QVERIFY(at::equal(store.get(2), x * 3));
        QVERIFY(at::equal(store.get(0), y));
        QVERIFY_THROWS_EXCEPTION(Error, store.put(2, y)); // a slot keeps its shape
        QCOMPARE(parseByteSize("4G"), int64_t(4) << 30);
        QCOMPARE(parseByteSize("512M"), int64_t(512) << 20);
        QCOMPARE(parseByteSize("1000"), int64_t(1000));
        QVERIFY(inputErrorOf([] { parseByteSize("4X"); }).has_value());
        QVERIFY(inputErrorOf([] { parseByteSize("lots"); }).has_value());
    }

    // Perplexity through layer-wise states and the chunked lm_head against the full logits.
    // Tolerance 1e-9 relative on the NLL: both sum the same float32 logits in float64; only
    // the log-sum-exp is formed per vocabulary chunk instead of by log_softmax.
    void evalMatchesInMemory()
    {
        const std::string dir = mq::test::storiesDir();
        TokenDataset data = loadTokenDataset(dir + "/evaluation.jsonl", 512);
        data.sequences.resize(10);
        data.sequences[9].resize(100); // a batch of another length
        const DecoderModel resident = DecoderModel::load(dir);
        const DecoderModel streamed = DecoderModel::load(dir, Residency::Streamed);
        const NllResult a = evaluateNll(resident, data, nullptr, 4);
        const NllResult b = evaluateStreamed(streamed, data, nullptr, 4);
        QCOMPARE(a.tokens, b.tokens);
        QVERIFY2(std::abs(a.nll - b.nll) <= 1e-9 * a.nll, qPrintable(QString::number(a.nll - b.nll)));
    }

    // forEachParallel (runtime.h): every item exactly once, on threads with one intra-op thread
    // and the caller's InferenceMode; OpenBLAS's pool is given back; an item's exception comes
    // out of the call; one worker runs the items in order on the calling thread.
    void forEachParallelRunsEachItemOnce()
    {
        const int blasBefore = blasThreads();
        std::vector<std::atomic<int>> runs(37);
        std::atomic<int> notInference{0}, teamAboveOne{0};
        {
            c10::InferenceMode guard;
            forEachParallel(runs.size(), 3, [&](size_t i) {
                ++runs[i];
                notInference += !c10::InferenceMode::is_enabled();
                teamAboveOne += at::get_num_threads() != 1;
                (void)at::matmul(at::ones({64, 64}), at::ones({64, 64})).sum().item<float>(); // a GEMM on each
            });
        }
        for (size_t i = 0; i < runs.size(); ++i)
            QCOMPARE(runs[i].load(), 1);
        QCOMPARE(notInference.load(), 0);
        QCOMPARE(teamAboveOne.load(), 0);
        QCOMPARE(blasThreads(), blasBefore);
        bool threw = false;
        try {
            forEachParallel(20, 2, [](size_t i) {
                if (i == 7)
                    throw InputError("item 7");
            });
        } catch (const InputError& e) {
            threw = std::string(e.what()).find("item 7") != std::string::npos;
        }
        QVERIFY(threw);
        std::vector<size_t> order;
        forEachParallel(5, 1, [&](size_t i) { order.push_back(i); });
        QCOMPARE(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
    }

    // A small model's evaluation (alone, and paired with a quantized model) runs its batches
    // side by side at two threads (one intra-op thread each): the same NLL, bit for bit, as a
    // one-thread run (OpenBLAS's pool of one too:
    // its threaded GEMM may round an edge block differently, so a run with a pool of two is not
    // the reference).
    void evalSideBySideMatchesOneThread()
    {
        const std::string dir = mq::test::storiesDir();
        TokenDataset data = loadTokenDataset(dir + "/evaluation.jsonl", 512);
        data.sequences.resize(12);
        data.sequences[11].resize(100); // a batch of another length
        const DecoderModel streamed = DecoderModel::load(dir, Residency::Streamed);
        QVERIFY(streamed.config().hiddenSize <= kInterBatchMaxHidden);
        const int blasBefore = blasThreads();
        if (blasBefore > 0)
            setBlasThreads(1);
        const NllResult one = evaluateStreamed(streamed, data, nullptr, 4);
        if (blasBefore > 0)
            setBlasThreads(blasBefore);
        at::set_num_threads(2);
        QCOMPARE(interBatchWorkers(streamed.config().hiddenSize, 4), 2);
        const NllResult two = evaluateStreamed(streamed, data, nullptr, 4);
        at::set_num_threads(1);
        QCOMPARE(two.tokens, one.tokens);
        QCOMPARE(two.nll, one.nll);
        QCOMPARE(interBatchWorkers(kInterBatchMaxHidden + 1, 4), 1);

        // The same for the paired evaluation of a MorphoQuant W4A4 plan (its hook is concurrent).
        TokenDataset calibSet = loadTokenDataset(dir + "/calibration.jsonl", 512);
        calibSet.sequences.resize(8);
        TokenCalibration calib(calibSet, 4);
        Session s;
        calibrateStreamed(s, streamed, calib);
        buildPlanStreamed(s, streamed, calib, morphoquantW4A4());
        QuantizedModel q = makeQuantizedModel(streamed, s);
        QVERIFY(q.hook->concurrent());
        if (blasBefore > 0)
            setBlasThreads(1);
        const EvalPair pairOne = evaluatePairStreamed(streamed, q.model, q.hook.get(), data, 4);
        const NllResult qOne = evaluateStreamed(q.model, data, q.hook.get(), 4);
        if (blasBefore > 0)
            setBlasThreads(blasBefore);
        at::set_num_threads(2);
        const EvalPair pairTwo = evaluatePairStreamed(streamed, q.model, q.hook.get(), data, 4);
        const NllResult qTwo = evaluateStreamed(q.model, data, q.hook.get(), 4);
        at::set_num_threads(1);
        QCOMPARE(pairTwo.ref.nll, pairOne.ref.nll);
        QCOMPARE(pairTwo.quantized.nll, pairOne.quantized.nll);
        QCOMPARE(pairTwo.kl, pairOne.kl);
        QCOMPARE(qTwo.nll, qOne.nll);
        QCOMPARE(pairOne.quantized.nll, qOne.nll);
    }

    // MDQFO's row sample: every n-th row in the global order over batches.
    // KL divergence of the quantized next-token distributions: the one-sweep formula equals a
    // float64 computation over the full logits (1e-9 relative: float32 logits summed in another
    // order), identical inputs give 0, and the paired evaluation gives both perplexities exactly
    // as the separate evaluations do.
    void klDivergenceAgainstReference()
    {
        const std::string dir = mq::test::storiesDir();
        const DecoderModel m = DecoderModel::load(dir);
        at::manual_seed(11);
        const int64_t H = m.config().hiddenSize;
        const at::Tensor ids = at::randint(0, m.config().vocabSize, {2, 9}, at::kLong);
        const at::Tensor hf = at::randn({2, 9, H}), hq = hf + 0.3 * at::randn({2, 9, H});
        const NllPairSum same = m.nextTokenNllPair(hf, hf, ids);
        QVERIFY(same.kl < 1e-9);
        QCOMPARE(same.ref.nll, m.nextTokenNll(hf, ids).nll);
        const NllPairSum p = m.nextTokenNllPair(hf, hq, ids);
        // Logits of the same 16 rows in one GEMM, as the pair computes them: a GEMM of other rows
        // may round the same row differently (OpenBLAS's SSE3 kernels do: 1e-8 relative here).
        const at::Tensor lf = m.logits(hf.narrow(1, 0, 8).contiguous()).to(at::kDouble).log_softmax(-1);
        const at::Tensor lq = m.logits(hq.narrow(1, 0, 8).contiguous()).to(at::kDouble).log_softmax(-1);
        const double want = (lf.exp() * (lf - lq)).sum().item<double>();
        QVERIFY2(std::abs(p.kl / want - 1.0) < 1e-9, qPrintable(QString("%1 vs %2").arg(p.kl).arg(want)));
        QCOMPARE(p.other.nll, m.nextTokenNll(hq, ids).nll);

        TokenDataset data = loadTokenDataset(dir + "/evaluation.jsonl", 512);
        data.sequences.resize(8);
        TokenDataset calibSet = loadTokenDataset(dir + "/calibration.jsonl", 512);
        calibSet.sequences.resize(8);
        const DecoderModel streamed = DecoderModel::load(dir, Residency::Streamed);
        TokenCalibration calib(calibSet, 4);
        Session s;
        calibrateStreamed(s, streamed, calib);
        buildPlanStreamed(s, streamed, calib, morphoquantW4A4());
        QuantizedModel q = makeQuantizedModel(streamed, s);
        const EvalPair pair = evaluatePairStreamed(streamed, q.model, q.hook.get(), data, 4);
        QCOMPARE(pair.ref.nll, evaluateStreamed(streamed, data, nullptr, 4).nll);
        QCOMPARE(pair.quantized.nll, evaluateStreamed(q.model, data, q.hook.get(), 4).nll);
        QCOMPARE(pair.quantized.tokens, int64_t(8 * 256));
        QVERIFY(pair.kl > 0.0 && pair.kl < pair.quantized.nll);
    }

    // A file of one-token sequences has nothing to predict: every evaluation says so, naming
    // the file, instead of "perplexity 1 over 0 tokens".
    void evaluationNeedsATokenToPredict()
    {
        const DecoderModel m = DecoderModel::load(mq::test::storiesDir(), Residency::Streamed);
        TokenDataset data;
        data.path = "/data/one-token.jsonl";
        data.sequences = {{5}, {7}};
        for (int which = 0; which < 3; ++which) {
            try {
                if (which == 0)
                    evaluateStreamed(m, data);
                else if (which == 1)
                    evaluateNll(m, data);
                else
                    evaluatePairStreamed(m, m, nullptr, data);
                QFAIL("no InputError");
            } catch (const InputError& e) {
                QVERIFY2(std::string(e.what()).find("/data/one-token.jsonl: no sequence has two or more tokens")
                             != std::string::npos,
                         e.what());
            }
        }
        data.sequences.push_back({1, 2, 3}); // one sequence with something to predict is enough
        QCOMPARE(evaluateStreamed(m, data).tokens, int64_t(2));
    }

    void sampleStrideBoundsRows()
    {
        MdqfoSettings st;
        st.sampleElements = 1000;
        QCOMPARE(sampleStride(100, 10, st), int64_t(1));  // 1000 elements: all rows
        QCOMPARE(sampleStride(101, 10, st), int64_t(2));  // 100 rows at most -> every 2nd
        QCOMPARE(sampleStride(1000, 18944, st), int64_t(1000)); // one row at least
        st.sampleRows = 256;
        QCOMPARE(sampleStride(1024, 10, st), int64_t(4));
        st.sampleRows = 0;
        st.sampleElements = 0;
        QCOMPARE(sampleStride(1 << 20, 1 << 12, st), int64_t(1));
    }

    // Tiny Qwen2.5-Omni on the mixed manifest: the encoders' features are cached per sample,
    // and the streamed session equals the in-memory one.
    void omniSessionMatchesInMemory()
    {
        const std::string model = m_tmp.filePath("tiny-omni").toStdString();
        writeTinyOmni(model, 5);
        const std::string manifest = std::string(MQ_TEST_DATA_DIR) + "/manifest/mixed.jsonl";
        const DecoderModel resident = DecoderModel::load(model);
        const DecoderModel streamed = DecoderModel::load(model, Residency::Streamed);
        OmniCalibration ca(model, manifest), cb(model, manifest);
        Session a, b;
        calibrate(a, resident, ca);
        calibrateStreamed(b, streamed, cb);
        QCOMPARE(cb.cachedFeatures(), cb.samples()); // computed once, kept for the next stages
        QVERIFY(!cb.encodersLoaded());                // and the encoders released
        Session again;
        calibrateStreamed(again, streamed, cb);       // observing the encoders loads them again
        compareSessions(again, b);
        const QuantSettings st = morphoquantW4A4();
        buildPlan(a, resident, ca, st);
        std::vector<ModuleError> fused;
        buildPlanStreamed(b, streamed, cb, st, {}, nullptr, {}, {}, &fused, 2);
        compareSessions(a, b);
        const std::vector<ModuleError> ref = computeLayerErrors(resident, a, ca, 2);
        compareErrors(ref, computeLayerErrorsStreamed(streamed, b, cb, 2));
        compareErrors(ref, fused);
    }

    // A streamed export in shards of 100 KB reloads (index and all) as the quantized model the
    // plan describes: the same perplexity as the simulation, within 1e-9 relative (the same
    // float32 weights and hook; only batches are formed again).
    void shardedExportReloads()
    {
        const std::string dir = mq::test::storiesDir();
        TokenDataset all = loadTokenDataset(dir + "/calibration.jsonl", 512);
        all.sequences.resize(4);
        TokenDataset ev = loadTokenDataset(dir + "/evaluation.jsonl", 512);
        ev.sequences.resize(4);
        const DecoderModel m = DecoderModel::load(dir, Residency::Streamed);
        TokenCalibration calib(all, 4);
        Session s;
        calibrateStreamed(s, m, calib);
        buildPlanStreamed(s, m, calib, morphoquantW4A4());
        const std::string out = m_tmp.filePath("sharded").toStdString();
        const ExportSummary sum = exportSimulated(m, s, out, false, nullptr, {}, 100000);
        QVERIFY(sum.shards > 5);
        QVERIFY(std::filesystem::exists(out + "/model.safetensors.index.json"));
        Checkpoint ck(out);
        QVERIFY(ck.sharded());
        QCOMPARE(int(ck.files().size()), sum.shards);
        QuantizedModel q = makeQuantizedModel(m, s);
        const NllResult want = evaluateStreamed(q.model, ev, q.hook.get(), 4);
        LoadedModel lm = loadModelForEval(out, Residency::Streamed);
        QVERIFY(lm.settings.has_value());
        QuantSimHook hook(*lm.settings, lm.groups);
        const NllResult got = evaluateStreamed(lm.model, ev, &hook, 4);
        QVERIFY2(std::abs(got.nll - want.nll) <= 1e-9 * want.nll, qPrintable(QString::number(got.nll - want.nll)));
        // Tensors that are not quantized are copied byte for byte.
        Checkpoint src(dir);
        QVERIFY(at::equal(ck.load("model.norm.weight"), src.load("model.norm.weight")));
    }

    // The CLI's wiring: --mem-budget small enough to spill every batch gives the same figures
    // as the default (exact: the same float32 states, read back from the file); a bad size is a
    // usage error (exit 2) naming the option; make-synthetic writes a loadable folder.
    void cliMemBudgetAndSynthetic()
    {
        const QString cli = QString::fromStdString(mq::test::binDir() + "/morphoquant-cli");
        const QString dir = QString::fromStdString(mq::test::storiesDir());
        auto run = [&](const QStringList& args, int* code) {
            QProcess p;
            // The engine's streamed evaluation, also for stories260K (the launcher would evaluate
            // a model this small itself: core/eval/plain_eval.h).
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("MQ_PLAIN_EVAL", "0");
            p.setProcessEnvironment(env);
            p.start(cli, args);
            p.waitForFinished(300000);
            *code = p.exitCode();
            return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        };
        int code = -1;
        const QStringList evalArgs = {"eval", "--model", dir, "--data", dir + "/evaluation.jsonl", "--quiet", "--json",
                                      "--threads", "1"};
        const QString plain = run(evalArgs, &code);
        QCOMPARE(code, 0);
        const QString spilled = run(evalArgs + QStringList{"--mem-budget", "1K"}, &code);
        QCOMPARE(code, 0);
        QCOMPARE(spilled.trimmed().split('\n').last(), plain.trimmed().split('\n').last());
        const QString bad = run(evalArgs + QStringList{"--mem-budget", "4X"}, &code);
        QCOMPARE(code, 2);
        QVERIFY2(bad.contains("--mem-budget"), qPrintable(bad));
        const QString out = m_tmp.filePath("cli-synth");
        run({"make-synthetic", out, "--shape", "test-wide", "--layers", "1", "--seq-len", "16", "--quiet"}, &code);
        QCOMPARE(code, 0);
        const QString ev = run({"eval", "--model", out, "--data", out + "/evaluation.jsonl", "--quiet", "--json"}, &code);
        QVERIFY2(code == 0 && ev.contains("\"tokens\":120"), qPrintable(ev)); // 8 sequences x 15 predicted
        const QString unknown = run({"make-synthetic", out + "-x", "--shape", "qwen2.5-13b"}, &code);
        QCOMPARE(code, 2);
        QVERIFY2(unknown.contains("qwen2.5-omni-7b"), qPrintable(unknown)); // the message lists the shapes
        // The Omni layout end to end: its own mixed manifest calibrates every modality.
        const QString omni = m_tmp.filePath("cli-synth-omni");
        run({"make-synthetic", omni, "--shape", "test-omni", "--layers", "1", "--calib-seqs", "5", "--quiet"}, &code);
        QCOMPARE(code, 0);
        const QString q = run({"quantize", "--model", omni, "--manifest", omni + "/manifest.jsonl", "--method",
                               "morphoquant", "--wbits", "4", "--abits", "4", "--quiet", "--json"},
                              &code);
        QVERIFY2(code == 0, qPrintable(q));
        const QString calibLine = q.split('\n').filter("calibration").value(0);
        for (const char* m : {"text ", "image ", "audio ", "video "})
            QVERIFY2(calibLine.contains(m), qPrintable(q));
    }

    // make-synthetic's Omni shapes carry the released layout: tensor and parameter counts of the
    // thinker as published for Qwen2.5-Omni-7B (1346 tensors, 8,931,813,888 parameters) and
    // derived for the 3B (4,703,464,448), talker and token2wav counts as public loaders of the
    // released files list them (293 and 809 tensors; token2wav float32).
    void syntheticOmniShapesMatchReleasedCounts()
    {
        struct Part {
            int64_t tensors = 0, params = 0;
            bool allF32 = true, allBf16 = true;
        };
        auto parts = [](const std::string& shape) {
            SyntheticSpec spec;
            spec.shape = shape;
            std::map<std::string, Part> out;
            for (const TensorSpec& t : syntheticTensors(spec)) {
                const std::string part = t.name.substr(0, t.name.find('.'));
                Part& p = out[part];
                int64_t n = 1;
                for (int64_t d : t.shape)
                    n *= d;
                ++p.tensors;
                p.params += n;
                p.allF32 = p.allF32 && t.dtype == DType::F32;
                p.allBf16 = p.allBf16 && t.dtype == DType::BF16;
            }
            return out;
        };
        auto seven = parts("qwen2.5-omni-7b");
        QCOMPARE(seven["thinker"].tensors, int64_t(1346));
        QCOMPARE(seven["thinker"].params, int64_t(8931813888));
        QVERIFY(seven["thinker"].allBf16 && seven["talker"].allBf16 && seven["token2wav"].allF32);
        QCOMPARE(seven["talker"].tensors, int64_t(293));
        QCOMPARE(seven["talker"].params, int64_t(1351360256));
        QCOMPARE(seven["token2wav"].tensors, int64_t(809));
        QCOMPARE(seven["token2wav"].params, int64_t(449051264 + 32)); // + the DiT's stored inv_freq
        auto three = parts("qwen2.5-omni-3b");
        QCOMPARE(three["thinker"].params, int64_t(4703464448));
        QCOMPARE(three["talker"].params, int64_t(384604928));
        QCOMPARE(three["token2wav"].params, seven["token2wav"].params);
        auto plain = parts("qwen2.5-7b"); // the text model alone: model.* and lm_head.*
        QCOMPARE(plain.size(), size_t(2));
        QCOMPARE(plain["model"].params + plain["lm_head"].params, int64_t(7615616512)); // Qwen2.5-7B's count
    }

    // A small Omni layout written for real: loadable, Qwen's special ids, every modality of
    // its manifest reaches the decoder.
    void syntheticOmniFolderLoadsAndCalibrates()
    {
        const std::string dir = m_tmp.filePath("synth-omni").toStdString();
        SyntheticSpec spec;
        spec.shape = "test-omni";
        spec.layers = 2;
        spec.calibSequences = 5;
        spec.sequenceLength = 16;
        const SyntheticSummary sum = writeSynthetic(dir, spec, false);
        QCOMPARE(sum.layers, 2);
        const DecoderModel m = DecoderModel::load(dir, Residency::Streamed);
        QCOMPARE(m.tensorPrefix(), std::string("thinker."));
        QCOMPARE(m.numLayers(), 2);
        Checkpoint ck(dir);
        QVERIFY(ck.contains("thinker.visual.blocks.1.attn.q.weight"));
        QVERIFY(ck.contains("thinker.audio_tower.layers.1.fc2.bias"));
        QVERIFY(ck.contains("talker.codec_head.weight"));
        OmniCalibration calib(dir, dir + "/manifest.jsonl");
        QCOMPARE(calib.samples(), size_t(5));
        Session s;
        calibrateStreamed(s, m, calib);
        for (Modality mod : {Modality::Text, Modality::Image, Modality::Video, Modality::Audio})
            QVERIFY2(s.calibration.tokens[size_t(mod)] > 0, modalityName(mod));
    }

    // Peak resident memory of a streamed eval in a child process, on synthetic 2- and 8-layer
    // models of the same width: the deeper model may not cost more than a small margin
    // (16 MiB, against 6 x 3.4 MB of extra float32 layer weights that a resident load adds;
    // the margin absorbs allocator noise).
    void residentMemoryDoesNotGrowWithDepth()
    {
        SyntheticSpec spec;
        spec.shape = "test-wide";
        spec.seed = 3;
        std::vector<int64_t> peaks;
        for (int layers : {2, 8}) {
            spec.layers = layers;
            const std::string out = m_tmp.filePath(QString("synth-%1").arg(layers)).toStdString();
            writeSynthetic(out, spec, false);
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("MQ_PLAIN_EVAL", "0"); // the engine's streamed path, whatever the model's size
            p.setProcessEnvironment(env);
            p.start(QString::fromStdString(mq::test::binDir() + "/morphoquant-cli"),
                    {"eval", "--model", QString::fromStdString(out), "--data",
                     QString::fromStdString(out + "/evaluation.jsonl"), "--threads", "1", "--quiet",
                     "--report-peak-rss"});
            QVERIFY(p.waitForFinished(300000));
            const QString output = QString::fromUtf8(p.readAllStandardOutput());
            QVERIFY2(p.exitCode() == 0, qPrintable(output + p.readAllStandardError()));
            peaks.push_back(peakRssKiB(output));
            QVERIFY(peaks.back() > 0);
        }
        QVERIFY2(peaks[1] - peaks[0] < 16 * 1024,
                 qPrintable(QString("2 layers %1 KiB, 8 layers %2 KiB").arg(peaks[0]).arg(peaks[1])));
    }
};

QTEST_GUILESS_MAIN(TestStreaming)
#include "tst_streaming.moc"
