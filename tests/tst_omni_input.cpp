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
        QTest::newRow("video file") << "{\"video\": \"m_bad.jsonl\"}\n" << "must be a folder";
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
    }
};

QTEST_APPLESS_MAIN(TestOmniInput)
#include "tst_omni_input.moc"
