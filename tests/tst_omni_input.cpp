// Qwen2.5-Omni calibration inputs: the manifest and the prompt layout (placeholders, modality
// tags, TMRoPE positions) against hand-derived expectations.
#include "test_util.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "model/omni_input.h"
#include "model/tiny_omni.h"
#include "model/tokenizer.h"

#include <QtTest/QtTest>

using namespace mq::core;

class TestOmniInput : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

    std::string write(const QString& name, const std::string& content)
    {
        const std::string p = m_tmp.filePath(name).toStdString();
        writeFileAtomic(p, content);
        return p;
    }

private slots:
    void manifestResolvesRelativePaths()
    {
        QDir(m_tmp.path()).mkpath("media/frames");
        write("media/a.wav", "x");
        write("media/p.png", "x");
        const std::string m = write("m.jsonl", "{\"text\": \"hello\"}\n\n"
                                               "{\"image\": \"media/p.png\", \"audio\": \"media/a.wav\", \"text\": \"t\"}\n"
                                               "{\"video\": \"media/frames\"}\n");
        const auto samples = loadManifest(m);
        QCOMPARE(samples.size(), size_t(3));
        QCOMPARE(samples[0].text, std::string("hello"));
        QCOMPARE(samples[1].line, 3);
        QCOMPARE(samples[1].image, m_tmp.filePath("media/p.png").toStdString());
        QCOMPARE(samples[1].audio, m_tmp.filePath("media/a.wav").toStdString());
        QCOMPARE(samples[2].video, m_tmp.filePath("media/frames").toStdString());
        QVERIFY(!samples[2].videoIsFile);
        QCOMPARE(samples[2].fps, 2.0);
        QCOMPARE(samples[0].system, std::string(kQwenOmniSystemPrompt)); // the model's own by default
        // A video file with its audio, another sampling rate and a system prompt of its own.
        write("media/clip.mp4", "x");
        const std::string m2 = write("m2.jsonl", "{\"video\": \"media/clip.mp4\", \"use_audio_in_video\": true, "
                                                 "\"fps\": 1.5, \"system\": \"Be brief.\"}\n");
        const ManifestSample v = loadManifest(m2).at(0);
        QVERIFY(v.videoIsFile && v.useAudioInVideo);
        QCOMPARE(v.fps, 1.5);
        QCOMPARE(v.system, std::string("Be brief."));
    }

    // The system turn: the model's own prompt by default, a line's "system" instead.
    void systemPrompt()
    {
        const std::string dir = m_tmp.filePath("omni-sys").toStdString();
        writeTinyOmni(dir, 0);
        const Tokenizer tok = Tokenizer::fromFile(dir + "/tokenizer.json");
        const OmniTokenIds ids = omniTokenIds(tok);
        auto systemText = [&](const PromptLayout& p) {
            const auto end = std::find(p.ids.begin() + 1, p.ids.end(), ids.imEnd);
            return tok.decode(std::vector<int64_t>(p.ids.begin() + 1, end));
        };
        QCOMPARE(systemText(buildPrompt(tok, ids, "hi", MediaLayout())),
                 std::string("system\n") + kQwenOmniSystemPrompt);
        QCOMPARE(systemText(buildPrompt(tok, ids, "hi", MediaLayout(), "Be brief.")), std::string("system\nBe brief."));
    }

    // use_audio_in_video: <|vision_bos|><|audio_bos|> at one position, then video and audio in
    // 2 s chunks of 50 position units, then <|audio_eos|><|vision_eos|> at one position. By hand:
    // 4 slices of one merged token at t = s, s + 25, s + 50, s + 75 (1 s per slice) and 120
    // audio tokens s .. s + 119: V0 = {s, s+25}, A0 = s .. s+49, V1 = {s+50, s+75}, A1 = s+50 ..
    // s+99, A2 = s+100 .. s+119; the eos pair at s + 120.
    void audioInVideoInterleaves()
    {
        const std::string dir = m_tmp.filePath("omni-av").toStdString();
        writeTinyOmni(dir, 0);
        const Tokenizer tok = Tokenizer::fromFile(dir + "/tokenizer.json");
        const OmniTokenIds ids = omniTokenIds(tok);
        MediaLayout media;
        media.videoGridT = 4;
        media.videoGridH = 2;
        media.videoGridW = 2;
        media.videoSecondsPerGrid = 1.0;
        media.videoAudioTokens = 120;
        const PromptLayout p = buildPrompt(tok, ids, "", media);
        const size_t T = p.ids.size();
        auto pos = [&](size_t i, int row) { return p.positions[size_t(row) * T + i]; };
        const size_t vb = size_t(std::find(p.ids.begin(), p.ids.end(), ids.visionBos) - p.ids.begin());
        QVERIFY(vb + 1 < T);
        QCOMPARE(p.ids[vb + 1], ids.audioBos);
        for (int r = 0; r < 3; ++r)
            QCOMPARE(pos(vb + 1, r), pos(vb, r)); // the two bos share a position
        const int64_t s = pos(vb, 0) + 1;
        // The expected sequence: (modality, t) per token.
        std::vector<std::pair<Modality, int64_t>> want;
        want.push_back({Modality::Video, s});
        want.push_back({Modality::Video, s + 25});
        for (int k = 0; k < 50; ++k)
            want.push_back({Modality::Audio, s + k});
        want.push_back({Modality::Video, s + 50});
        want.push_back({Modality::Video, s + 75});
        for (int k = 50; k < 120; ++k)
            want.push_back({Modality::Audio, s + k});
        for (size_t k = 0; k < want.size(); ++k) {
            const size_t i = vb + 2 + k;
            QCOMPARE(p.modality[i], uint8_t(want[k].first));
            QCOMPARE(p.ids[i], want[k].first == Modality::Video ? ids.video : ids.audio);
            QCOMPARE(pos(i, 0), want[k].second);
            if (want[k].first == Modality::Audio) // audio: all rows the same
                QCOMPARE(pos(i, 2), want[k].second);
            else // one merged token per slice: row and column 0
                QCOMPARE(pos(i, 1), s);
        }
        const size_t e = vb + 2 + want.size();
        QCOMPARE(p.ids[e], ids.audioEos);
        QCOMPARE(p.ids[e + 1], ids.visionEos);
        for (int r = 0; r < 3; ++r) {
            QCOMPARE(pos(e, r), s + 120);
            QCOMPARE(pos(e + 1, r), s + 120);
        }
        QCOMPARE(pos(e + 2, 0), s + 121); // the text after

        // A slice step past a whole chunk (3 s per slice): one chunk per crossing, as
        // get_chunked_index yields: V0 = {s}, A0 = s..s+49, V1 = {s+75}, A1 = s+50..s+59.
        media.videoGridT = 2;
        media.videoSecondsPerGrid = 3.0;
        media.videoAudioTokens = 60;
        const PromptLayout q = buildPrompt(tok, ids, "", media);
        const size_t T2 = q.ids.size();
        const size_t vb2 = size_t(std::find(q.ids.begin(), q.ids.end(), ids.visionBos) - q.ids.begin());
        std::vector<uint8_t> kinds(q.modality.begin() + long(vb2) + 2, q.modality.begin() + long(vb2) + 2 + 62);
        QCOMPARE(kinds[0], uint8_t(Modality::Video));
        QCOMPARE(kinds[1], uint8_t(Modality::Audio));
        QCOMPARE(kinds[51], uint8_t(Modality::Video));
        QCOMPARE(q.positions[vb2 + 2 + 51], q.positions[vb2] + 1 + 75);
        QCOMPARE(kinds[52], uint8_t(Modality::Audio));
        QCOMPARE(q.positions[vb2 + 2 + 52], q.positions[vb2] + 1 + 50);
        Q_UNUSED(T2);
    }

    void manifestErrors_data()
    {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("needle");
        QTest::newRow("not json") << "{oops\n" << ":1: not a JSON object";
        QTest::newRow("unknown key") << "{\"txt\": \"a\"}\n" << "unknown key \"txt\"";
        QTest::newRow("number") << "{\"text\": 3}\n" << "\"text\" must be a string";
        QTest::newRow("missing file") << "{\"text\": \"a\"}\n{\"image\": \"nope.png\"}\n" << ":2: image";
        QTest::newRow("empty sample") << "{}\n" << "has no text, image, audio or video";
        QTest::newRow("no samples") << "\n\n" << "no samples";
        QTest::newRow("audio of a frame folder") << "{\"video\": \".\", \"use_audio_in_video\": true}\n"
                                                 << "needs a video file with an audio track";
        QTest::newRow("use_audio_in_video not a boolean") << "{\"text\": \"a\", \"use_audio_in_video\": \"yes\"}\n"
                                                          << "must be true or false";
        QTest::newRow("fps zero") << "{\"video\": \".\", \"fps\": 0}\n" << "\"fps\" must be a number above 0";
        // A name longer than NAME_MAX (255 bytes): the system refuses it (ENAMETOOLONG), which
        // once escaped as a std::filesystem::filesystem_error (found by fuzz_manifest in CI).
        QTest::newRow("name too long") << "{\"image\": \"" + QString(300, 'p') + ".png\"}\n"
                                       << "cannot be read";
        QTest::newRow("system not a string") << "{\"text\": \"a\", \"system\": 1}\n" << "\"system\" must be a string";
    }
    void manifestErrors()
    {
        QFETCH(QString, content);
        QFETCH(QString, needle);
        const std::string p = write("m_bad.jsonl", content.toStdString());
        try {
            loadManifest(p);
            QFAIL("expected an error");
        } catch (const InputError& e) {
            QVERIFY2(QString(e.what()).contains("m_bad.jsonl") && QString(e.what()).contains(needle), e.what());
        }
    }

    void promptLayout()
    {
        const std::string dir = m_tmp.filePath("omni").toStdString();
        writeTinyOmni(dir, 0);
        const Tokenizer tok = Tokenizer::fromFile(dir + "/tokenizer.json");
        const OmniTokenIds ids = omniTokenIds(tok);
        QCOMPARE(ids.image, int64_t(509)); // tiny-omni's specials start at 500 (tiny_omni.cpp)
        MediaLayout media;
        media.imageGridT = 1;
        media.imageGridH = 4; // merged 2 x 3
        media.imageGridW = 6;
        media.audioTokens = 3;
        const PromptLayout p = buildPrompt(tok, ids, "hi", media);
        const size_t T = p.ids.size();
        QCOMPARE(p.modality.size(), T);
        QCOMPARE(p.positions.size(), 3 * T);
        auto pos = [&](size_t i, int row) { return p.positions[size_t(row) * T + i]; };
        const size_t bos = size_t(std::find(p.ids.begin(), p.ids.end(), ids.visionBos) - p.ids.begin());
        QVERIFY(bos < T);
        // Text before the image: positions 0, 1, 2, ... on all rows.
        for (size_t i = 0; i <= bos; ++i)
            for (int r = 0; r < 3; ++r)
                QCOMPARE(pos(i, r), int64_t(i));
        const int64_t s = int64_t(bos) + 1;
        // Six image tokens: (s, s + row, s + col), row-major over the 2 x 3 merged grid.
        for (int k = 0; k < 6; ++k) {
            const size_t i = bos + 1 + size_t(k);
            QCOMPARE(p.ids[i], ids.image);
            QCOMPARE(p.modality[i], uint8_t(Modality::Image));
            QCOMPARE(pos(i, 0), s);
            QCOMPARE(pos(i, 1), s + k / 3);
            QCOMPARE(pos(i, 2), s + k % 3);
        }
        // vision_eos continues at 1 + max placed = s + 3; then audio_bos s + 4, audio s + 5..7.
        size_t i = bos + 7;
        QCOMPARE(p.ids[i], ids.visionEos);
        QCOMPARE(pos(i, 0), s + 3);
        QCOMPARE(p.ids[i + 1], ids.audioBos);
        QCOMPARE(pos(i + 1, 2), s + 4);
        for (int k = 0; k < 3; ++k) {
            QCOMPARE(p.ids[i + 2 + size_t(k)], ids.audio);
            QCOMPARE(p.modality[i + 2 + size_t(k)], uint8_t(Modality::Audio));
            for (int r = 0; r < 3; ++r)
                QCOMPARE(pos(i + 2 + size_t(k), r), s + 5 + k);
        }
        QCOMPARE(p.ids[i + 5], ids.audioEos);
        QCOMPARE(pos(i + 5, 1), s + 8);
        // The rest is text again, advancing all rows together, and ends with "assistant\n".
        for (size_t j = i + 6; j < T; ++j) {
            QCOMPARE(p.modality[j], uint8_t(Modality::Text));
            QCOMPARE(pos(j, 0), pos(j - 1, 0) + 1);
            QCOMPARE(pos(j, 1), pos(j, 0));
        }
        QCOMPARE(tok.decode(std::vector<int64_t>(p.ids.end() - 3, p.ids.end())).substr(0, 1), std::string("a"));
    }

    void videoTemporalPositions()
    {
        const std::string dir = m_tmp.filePath("omni2").toStdString();
        writeTinyOmni(dir, 0);
        const Tokenizer tok = Tokenizer::fromFile(dir + "/tokenizer.json");
        MediaLayout media;
        media.videoGridT = 3; // three temporal slices, one second each at 2 fps
        media.videoGridH = 2;
        media.videoGridW = 2; // one merged token per slice
        const PromptLayout p = buildPrompt(tok, omniTokenIds(tok), "", media);
        const size_t T = p.ids.size();
        std::vector<int64_t> t;
        for (size_t i = 0; i < T; ++i)
            if (p.modality[i] == uint8_t(Modality::Video))
                t.push_back(p.positions[i]);
        QCOMPARE(t.size(), size_t(3));
        QCOMPARE(t[1] - t[0], int64_t(25)); // 25 position units per second
        QCOMPARE(t[2] - t[0], int64_t(50));
        // fps 3: 2/3 s per slice, int(float32(t * 0.6666667f) * 25) = 0, 16, 33.
        media.videoSecondsPerGrid = 2.0 / 3.0;
        const PromptLayout q = buildPrompt(tok, omniTokenIds(tok), "", media);
        std::vector<int64_t> u;
        for (size_t i = 0; i < q.ids.size(); ++i)
            if (q.modality[i] == uint8_t(Modality::Video))
                u.push_back(q.positions[i]);
        QCOMPARE(u[1] - u[0], int64_t(16));
        QCOMPARE(u[2] - u[0], int64_t(33));
    }
};

QTEST_APPLESS_MAIN(TestOmniInput)
#include "tst_omni_input.moc"
