// A mixed manifest (text, image, audio, video: tests/data/manifest/mixed.jsonl) calibrated on
// the tiny Qwen2.5-Omni checkpoint: per-modality token counts and statistics, encoder groups
// seeing only their modalities, DABC from any modality, quantize + export, and bad media.
#include "test_util.h"

#include <QProcess>
#include <QStandardPaths>

#include "common/error.h"
#include "encoder_quant.h"
#include "eval/layer_error.h"
#include "export/hf_export.h"
#include "io/atomic_file.h"
#include "io/session_store.h"
#include "model/decoder.h"
#include "model/omni_model.h"
#include "model/tiny_omni.h"
#include "model/audio_encoder.h"
#include "model/vision_encoder.h"
#include "pipeline.h"
#include "quant/dabc.h"
#include "streaming.h"

#include <QtTest/QtTest>

#include <ATen/Parallel.h>

using namespace mq::core;

class TestOmniPipeline : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::string m_model;
    std::string manifest() const { return std::string(MQ_TEST_DATA_DIR) + "/manifest/mixed.jsonl"; }

private slots:
    void initTestCase()
    {
        at::set_num_threads(1);
        m_model = m_tmp.filePath("tiny-omni").toStdString();
        writeTinyOmni(m_model, 5);
    }

    // A clip too short for one audio token names its file and the manifest line (issue 13: the
    // encoder's message named neither), when the manifest is read.
    void tooShortAudioNamesItsFile()
    {
        const QString wav = m_tmp.filePath("short.wav");
        QFile f(wav);
        QVERIFY(f.open(QIODevice::WriteOnly));
        auto u32 = [&](quint32 v) { f.write(reinterpret_cast<const char*>(&v), 4); };
        auto u16 = [&](quint16 v) { f.write(reinterpret_cast<const char*>(&v), 2); };
        const quint32 samples = 100, bytes = samples * 2;
        f.write("RIFF");
        u32(36 + bytes);
        f.write("WAVEfmt ");
        u32(16);
        u16(1); // PCM
        u16(1); // mono
        u32(16000);
        u32(32000);
        u16(2);
        u16(16);
        f.write("data");
        u32(bytes);
        for (quint32 i = 0; i < samples; ++i)
            u16(1000);
        f.close();
        const QString manifestPath = m_tmp.filePath("short.jsonl");
        QFile mf(manifestPath);
        QVERIFY(mf.open(QIODevice::WriteOnly));
        mf.write(QStringLiteral("{\"text\": \"hello\", \"audio\": \"%1\"}\n").arg(wav).toUtf8());
        mf.close();
        std::string msg;
        try {
            OmniCalibration calib(m_model, manifestPath.toStdString());
        } catch (const InputError& e) {
            msg = e.what();
        }
        QVERIFY2(msg.find(wav.toStdString()) != std::string::npos && msg.find("at least 3 frames") != std::string::npos,
                 msg.c_str());
    }

    // A video file with its audio track (use_audio_in_video), made at test time with Debian's
    // ffmpeg: 2 s of 64x48 frames at 4 fps and a 440 Hz tone. By hand: sampling at fps 2 takes
    // n = 8 / 4 * 2 = 4 frames (0, 2, 4, 6): gridT 2; 64x48 within the video bounds is 392x280
    // (beta = sqrt(100352/3072) = 5.7155, ceil 13.06 -> 14, ceil 9.80 -> 10): 28 x 20 patches,
    // 14 x 10 = 140 merged tokens per slice, 280 in all. The 2 s track: 200 log-mel frames ->
    // (100 - 2) / 2 + 1 = 50 audio tokens. Slices sit at t = 0 and 25, audio at 0..49: one
    // 2 s chunk, so the prompt holds the 280 video tokens, then the 50 audio tokens.
    void videoFileWithItsAudio()
    {
        const QString ffmpeg = QStandardPaths::findExecutable(QStringLiteral("ffmpeg"));
        if (ffmpeg.isEmpty())
            QSKIP("ffmpeg is not on PATH (scripts/deps.sh installs it): cannot make the test video");
        const QString video = m_tmp.filePath(QStringLiteral("av.mkv"));
        QProcess p;
        p.start(ffmpeg, {"-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=4:duration=2", "-f",
                         "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=2", "-c:v", "ffv1", "-c:a",
                         "flac", "-shortest", video});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QString manifestPath = m_tmp.filePath(QStringLiteral("av.jsonl"));
        QFile mf(manifestPath);
        QVERIFY(mf.open(QIODevice::WriteOnly));
        mf.write("{\"text\": \"what do you hear?\", \"video\": \"av.mkv\", \"use_audio_in_video\": true}\n");
        mf.close();
        DecoderModel m = DecoderModel::load(m_model);
        OmniCalibration calib(m_model, manifestPath.toStdString());
        const DecoderInput in = calib.prepare(0, m, nullptr, false);
        const at::Tensor mod = in.modality[0].to(at::kLong);
        const int64_t videoTokens = mod.eq(int64_t(Modality::Video)).sum().item<int64_t>();
        const int64_t audioTokens = mod.eq(int64_t(Modality::Audio)).sum().item<int64_t>();
        QCOMPARE(videoTokens, int64_t(280));
        QCOMPARE(audioTokens, int64_t(50));
        const at::Tensor firstVideo = mod.eq(int64_t(Modality::Video)).nonzero().flatten();
        const at::Tensor firstAudio = mod.eq(int64_t(Modality::Audio)).nonzero().flatten();
        QCOMPARE(firstAudio[0].item<int64_t>(), firstVideo[0].item<int64_t>() + 280); // one chunk: V0 then A0
        // The bos pair shares a position, and the audio starts where the video does.
        const int64_t v0 = firstVideo[0].item<int64_t>();
        QCOMPARE(in.positions[0][0][v0 - 1].item<int64_t>(), in.positions[0][0][v0 - 2].item<int64_t>());
        QCOMPARE(in.positions[0][0][v0 + 280].item<int64_t>(), in.positions[0][0][v0].item<int64_t>());
        QCOMPARE(in.positions[0][0][v0 + 140].item<int64_t>(), in.positions[0][0][v0].item<int64_t>() + 25);
        // Calibration sees both through the encoders.
        Session s;
        calibrate(s, m, calib);
        QCOMPARE(s.calibration.tokens[size_t(Modality::Video)], int64_t(280));
        QCOMPARE(s.calibration.tokens[size_t(Modality::Audio)], int64_t(50));

        // Without use_audio_in_video the audio stays out; at fps 1 the same clip gives n = 4 still
        // (the minimum), at fps 4 all 8 frames: gridT 4, 560 tokens.
        QVERIFY(mf.open(QIODevice::WriteOnly | QIODevice::Truncate));
        mf.write("{\"video\": \"av.mkv\", \"fps\": 4}\n");
        mf.close();
        OmniCalibration fast(m_model, manifestPath.toStdString());
        const at::Tensor mod4 = fast.prepare(0, m, nullptr, false).modality[0].to(at::kLong);
        QCOMPARE(mod4.eq(int64_t(Modality::Video)).sum().item<int64_t>(), int64_t(560));
        QCOMPARE(mod4.eq(int64_t(Modality::Audio)).sum().item<int64_t>(), int64_t(0));
    }

    void calibratesEveryModality()
    {
        DecoderModel m = DecoderModel::load(m_model);
        OmniCalibration calib(m_model, manifest());
        QCOMPARE(calib.samples(), size_t(5));
        Session s;
        calibrate(s, m, calib);
        // Audio: hello.wav is 1.3 s -> log-mel frames L = ceil(n/160); 25 tokens/s after the
        // encoder, counted twice (two samples use it). Image: the 64x48 rose -> smart_resize
        // 56x56 -> 4x4 patches -> 4 merged tokens, twice. Video: three 40x30 frames -> padded to
        // 4 frames of 56x28 -> grid 2x4x2 -> 2*4*2/4 = 4 tokens... as the encoder reports.
        const auto& t = s.calibration.tokens;
        QVERIFY(t[size_t(Modality::Text)] > 100);
        QVERIFY(t[size_t(Modality::Image)] > 0);
        QVERIFY(t[size_t(Modality::Video)] > 0);
        QVERIFY(t[size_t(Modality::Audio)] > 0);
        QCOMPARE(t[size_t(Modality::Image)] % 2, int64_t(0)); // the same image size twice
        QCOMPARE(t[size_t(Modality::Audio)] % 2, int64_t(0)); // the same clip twice
        // Every decoder group sees every token; pooled = sum of modalities.
        for (size_t g = 0; g < m.groups().size(); ++g) {
            const InputStats& st = s.stats.at(m.groups()[g]);
            for (int mm = 0; mm < kNumModalities; ++mm)
                QCOMPARE(st.perModality[size_t(mm)].count, t[size_t(mm)]);
            QCOMPARE(st.pooled.count, s.calibration.totalTokens());
        }
        // Encoder groups come after the decoder's and see only their own modalities.
        const std::vector<std::string> extra = calib.extraGroups();
        QCOMPARE(s.groups.size(), m.groups().size() + extra.size());
        for (const std::string& g : extra) {
            const InputStats& st = s.stats.at(g);
            const bool audio = g.rfind("audio.", 0) == 0;
            QCOMPARE(st.perModality[size_t(Modality::Text)].count, int64_t(0));
            QVERIFY(st.perModality[size_t(audio ? Modality::Audio : Modality::Image)].count > 0);
            QCOMPARE(st.perModality[size_t(Modality::Audio)].count > 0, audio);
            QCOMPARE(st.perModality[size_t(Modality::Video)].count > 0, !audio);
        }
        // The session keeps it all.
        const std::string path = m_tmp.filePath("omni.mqs").toStdString();
        saveSession(s, path);
        const Session r = loadSession(path);
        QCOMPARE(r.calibration.tokens, s.calibration.tokens);
        QCOMPARE(r.groups, s.groups);

        // DABC: a channel flagged from pooled scores stays flagged with any-modality on.
        DabcSettings pooled;
        pooled.forceKinds.clear();
        DabcSettings any = pooled;
        any.anyModality = true;
        Session a = s, b = s;
        computeMasks(a, pooled);
        computeMasks(b, any);
        int64_t na = 0, nb = 0;
        for (const std::string& g : s.groups)
            for (size_t c = 0; c < a.plans[g].mask.size(); ++c) {
                QVERIFY(!a.plans[g].mask[c] || b.plans[g].mask[c]);
                na += a.plans[g].mask[c];
                nb += b.plans[g].mask[c];
            }
        QVERIFY(nb >= na);
    }

    void quantizesFromTheManifest()
    {
        DecoderModel m = DecoderModel::load(m_model);
        OmniCalibration calib(m_model, manifest());
        Session s;
        calibrate(s, m, calib);
        QuantSettings st;
        st.method = "morphoquant";
        st.weight.format = WeightFormat::Int;
        st.abits = 4;
        buildPlan(s, m, calib, st);
        for (const std::string& g : m.groups())
            QCOMPARE(s.plans.at(g).alpha.size(), size_t(m.groupChannels(int(&g - &m.groups()[0]))));
        QCOMPARE(s.curves.size(), m.groups().size());
        exportSimulated(m, s, m_tmp.filePath("q").toStdString(), false);
        QVERIFY(QFile::exists(m_tmp.filePath("q/model.safetensors")));
    }

    // --quantize-encoders: every encoder group gets MDQFO bounds of its own, and the decoder's
    // plan is captured from the quantized encoders' features.
    void quantizesTheEncoders()
    {
        DecoderModel m = DecoderModel::load(m_model);
        OmniCalibration calib(m_model, manifest());
        Session s;
        calibrate(s, m, calib);
        QuantSettings st;
        st.method = "morphoquant";
        st.weight.format = WeightFormat::Int;
        st.abits = 4;
        Session plain = s, enc = s;
        buildPlanStreamed(plain, m, calib, st);
        st.quantizeEncoders = true;
        buildPlanStreamed(enc, m, calib, st);
        const std::vector<std::string> extra = calib.extraGroups();
        QVERIFY(!extra.empty());
        std::set<std::string> curves;
        for (const LossCurve& c : enc.curves)
            curves.insert(c.group);
        for (const std::string& g : extra) {
            const GroupPlan& p = enc.plans.at(g);
            const size_t k = s.stats.at(g).pooled.min.size();
            QCOMPARE(p.alpha.size(), k);
            QCOMPARE(p.alpha0.size(), k);
            QCOMPARE(p.mask.size(), k);
            QVERIFY2(curves.count(g), g.c_str());
            // MDQFO searches ratios of alpha0 in (0, 1]: a bound never exceeds max |x| (float
            // rounding of ratio * alpha0 allowed, 1e-6 relative).
            for (size_t c = 0; c < k; ++c)
                QVERIFY2(p.alpha[c] > 0.f && p.alpha[c] <= p.alpha0[c] * (1.f + 1e-6f), g.c_str());
            QVERIFY(plain.plans.at(g).alpha.empty()); // without the flag the encoders are not planned
        }
        bool differs = false; // the decoder's inputs at media tokens changed, so some bound did
        for (const std::string& g : m.groups())
            differs = differs || plain.plans.at(g).alpha != enc.plans.at(g).alpha;
        QVERIFY(differs);

        // The quantized encoders rebuilt from the plan (a reloaded session) are the planned ones:
        // the same features bit for bit, and not the full-precision ones.
        Session w = s;
        const QuantSettings prepared = preparePlan(w, st);
        const std::unique_ptr<EncoderQuant> planned = planEncoders(w, m, calib, prepared);
        for (const std::string& g : extra)
            QVERIFY2(w.plans.at(g).alpha == enc.plans.at(g).alpha, g.c_str());
        // The lockstep run (block by block, each block's weights rounded as it comes) equals whole
        // forwards through fully quantized towers: each group's alpha0 (max |x| over every
        // captured row) as captured through the planned groups before it, for a group of every
        // step kind of both towers; and every sample's encoder outputs, bit for bit.
        struct Capture : ForwardHook {
            ForwardHook* inner = nullptr;
            int target = -1;
            at::Tensor amax;
            at::Tensor onLinearInput(int group, const at::Tensor& x, const at::Tensor& mod) override
            {
                if (group != target)
                    return inner->onLinearInput(group, x, mod);
                const at::Tensor a = x.abs().amax(0);
                amax = amax.defined() ? at::maximum(amax, a) : a;
                throw StopForward{};
            }
        };
        const VisionEncoder qv = calib.visionEncoder()->withLinearWeights(roundedWeights(prepared.weight, "visual"));
        const AudioEncoder qa = calib.audioEncoder()->withLinearWeights(roundedWeights(prepared.weight, "audio"));
        const int off = int(m.groups().size());
        for (const std::string& g : {std::string("visual.blocks.1.gate_up_in"), std::string("visual.merger.mlp2_in"),
                                     std::string("audio.layers.1.fc2_in"), std::string("audio.proj_in")}) {
            const auto at = std::find(extra.begin(), extra.end(), g);
            QVERIFY2(at != extra.end(), g.c_str());
            Capture cap;
            cap.inner = planned->hook();
            cap.target = off + int(at - extra.begin());
            planned->simHook().setActiveLimit(cap.target);
            for (size_t i = 0; i < calib.samples(); ++i)
                calib.encode(i, off, &cap, &qv, &qa);
            planned->simHook().setActiveLimit(1 << 30);
            const at::Tensor a0 = cap.amax.clamp_min(1e-8);
            const std::vector<float> ref(a0.data_ptr<float>(), a0.data_ptr<float>() + a0.numel());
            QVERIFY2(ref == w.plans.at(g).alpha0, g.c_str());
        }
        for (size_t i = 0; i < calib.samples(); ++i) {
            const OmniCalibration::EncoderOutputs whole = calib.encode(i, off, planned->hook(), &qv, &qa);
            const OmniCalibration::EncoderOutputs& lockstep = planned->outputs(i);
            for (auto slot : {&OmniCalibration::EncoderOutputs::image, &OmniCalibration::EncoderOutputs::video,
                              &OmniCalibration::EncoderOutputs::audio, &OmniCalibration::EncoderOutputs::videoAudio}) {
                QCOMPARE((whole.*slot).defined(), (lockstep.*slot).defined());
                if ((whole.*slot).defined())
                    QVERIFY(at::equal(whole.*slot, lockstep.*slot));
            }
        }
        const std::unique_ptr<EncoderQuant> rebuilt = encoderQuantFromPlan(enc, m, calib);
        for (size_t i = 0; i < calib.samples(); ++i) {
            const at::Tensor a = calib.prepareQuantized(i, m, *planned).embeds;
            const at::Tensor b = calib.prepareQuantized(i, m, *rebuilt).embeds;
            QVERIFY(at::equal(a, b));
            const bool media = calib.usesVision(i) || calib.usesAudio(i);
            QCOMPARE(!at::equal(a, calib.prepare(i, m, nullptr, false).embeds), media);
        }

        // Simulated only: an export refuses and writes nothing.
        const QString out = m_tmp.filePath("enc-export");
        try {
            exportSimulated(m, enc, out.toStdString(), false);
            QFAIL("an export of a plan with quantized encoders must be refused");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("--quantize-encoders"), e.what());
        }
        QVERIFY(!QFileInfo::exists(out));
    }

    // At 16 bits the quantized encoders are the full-precision ones: their output error is nil
    // (SQNR at its clamp, cosine 1) and the thinker's KL is 0. At W8A8 the encoders' SQNR is
    // well above W4A4's (about 6 dB per bit; 6 dB asserted for 4 bits more, far inside).
    void encoderErrorsAndKl()
    {
        DecoderModel m = DecoderModel::load(m_model);
        OmniCalibration calib(m_model, manifest());
        Session s;
        calibrate(s, m, calib);
        QuantSettings st;
        st.method = "rtn";
        st.abits = 16;
        st.quantizeEncoders = true;
        Session id = s;
        buildPlanStreamed(id, m, calib, st);
        const std::unique_ptr<EncoderQuant> same = encoderQuantFromPlan(id, m, calib);
        const std::vector<ModuleError> none = encoderOutputErrors(calib, m, *same);
        QCOMPARE(none.size(), size_t(2)); // vision and audio
        for (const ModuleError& e : none) {
            QCOMPARE(e.pooled.sqnrDb, kSqnrClampDb);
            QCOMPARE(e.pooled.cosine, 1.0);
        }
        QCOMPARE(none[0].module, std::string("vision"));
        QVERIFY(none[0].perModality[size_t(Modality::Image)].tokens > 0);
        QVERIFY(none[0].perModality[size_t(Modality::Video)].tokens > 0);
        QCOMPARE(none[1].perModality[size_t(Modality::Audio)].tokens, none[1].pooled.tokens);
        const EvalPair pair = evaluatePairStreamed(m, m, nullptr, calib, {}, nullptr, {}, same.get());
        QVERIFY2(std::fabs(pair.kl) < 1e-12, std::to_string(pair.kl).c_str()); // identical runs

        auto sqnr = [&](int bits) {
            QuantSettings q;
            q.method = "morphoquant";
            q.weight.format = WeightFormat::Int;
            q.weight.bits = bits;
            q.abits = bits;
            q.quantizeEncoders = true;
            Session w = s;
            buildPlanStreamed(w, m, calib, q);
            const std::vector<ModuleError> e = encoderOutputErrors(calib, m, *encoderQuantFromPlan(w, m, calib));
            return std::make_pair(e.at(0).pooled.sqnrDb, e.at(1).pooled.sqnrDb);
        };
        const auto w4 = sqnr(4), w8 = sqnr(8);
        QVERIFY2(w4.first < kSqnrClampDb && w4.second < kSqnrClampDb, "4-bit encoders must show an error");
        QVERIFY2(w8.first > w4.first + 6.0, (std::to_string(w8.first) + " vs " + std::to_string(w4.first)).c_str());
        QVERIFY2(w8.second > w4.second + 6.0, (std::to_string(w8.second) + " vs " + std::to_string(w4.second)).c_str());

        // The session keeps a result's encoder errors.
        EvalResult r;
        r.label = "q";
        r.data = manifest();
        r.kl = 0.5;
        r.encoders = none;
        r.encoders[0].pooled.sqnrDb = 17.25;
        Session saved = id;
        saved.evals = {r};
        const std::string path = m_tmp.filePath("enc.mqs").toStdString();
        saveSession(saved, path);
        const Session back = loadSession(path);
        QCOMPARE(back.evals.size(), size_t(1));
        QCOMPARE(back.evals[0].encoders.size(), size_t(2));
        QCOMPARE(back.evals[0].encoders[0].module, std::string("vision"));
        QCOMPARE(back.evals[0].encoders[0].pooled.sqnrDb, 17.25);
        QCOMPARE(back.evals[0].encoders[0].perModality[size_t(Modality::Video)].tokens,
                 none[0].perModality[size_t(Modality::Video)].tokens);
        QCOMPARE(back.evals[0].encoders[1].pooled.tokens, none[1].pooled.tokens);
        QVERIFY(back.settings && back.settings->quantizeEncoders);
    }

    // A manifest without media runs no encoder: --quantize-encoders says so.
    void encodersNeedMedia()
    {
        DecoderModel m = DecoderModel::load(m_model);
        const std::string man = m_tmp.filePath("text-only.jsonl").toStdString();
        writeFileAtomic(man, "{\"text\": \"only words here\"}\n");
        OmniCalibration calib(m_model, man);
        Session s;
        calibrate(s, m, calib);
        QuantSettings st;
        st.method = "morphoquant";
        st.abits = 4;
        st.quantizeEncoders = true;
        try {
            buildPlanStreamed(s, m, calib, st);
            QFAIL("a text-only manifest has no encoder to quantize");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("no image, video or audio"), e.what());
        }
        QVERIFY(!s.settings); // the session is as it was
    }

    void badMediaNamesTheFileAndLine()
    {
        const std::string bad = m_tmp.filePath("bad.png").toStdString();
        writeFileAtomic(bad, "this is not a PNG");
        const std::string man = m_tmp.filePath("bad.jsonl").toStdString();
        writeFileAtomic(man, "{\"text\": \"ok\"}\n{\"image\": \"bad.png\"}\n");
        try {
            OmniCalibration calib(m_model, man);
            QFAIL("a corrupt image must be rejected");
        } catch (const InputError& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains("bad.jsonl:2") && msg.contains("bad.png"), e.what());
        }
    }

    void plainModelRejectsMediaManifest()
    {
        try {
            OmniCalibration calib(mq::test::storiesDir(), manifest());
            QFAIL("stories260K is no omni model");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("qwen2_5_omni"), e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestOmniPipeline)
#include "tst_omni_pipeline.moc"
