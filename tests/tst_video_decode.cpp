// Video files through FFmpeg (core/io/video_decode.h): probing, frame decoding to RGB and the
// audio track's mono mix-down. Every fixture is made at test time with the ffmpeg CLI from its
// lavfi sources into a temporary folder (no binary fixture is checked in):
//   testsrc2=size=96x64:rate=10:duration=3  -> 30 frames at 10 fps, 96x64
//   sine=frequency=440:sample_rate=22050:duration=3 -> 66150 samples, amplitude 1/8
// The suite is skipped when `ffmpeg` is not on PATH; a row whose encoder this ffmpeg build lacks
// (libx264, libvpx-vp9, libopus) is skipped with the encoder's name.
// ATen (through image_features.h) before QtTest: Qt's `slots` macro breaks ATen's IValue::slots().
#include "common/error.h"
#include "io/video_decode.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "test_util.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace mq::core;

namespace {

struct ProcResult {
    int code = -1;
    QByteArray out, err;
};

ProcResult runProgram(const QString& program, const QStringList& args, int timeoutMs = 120000)
{
    QProcess p;
    p.start(program, args);
    ProcResult r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

constexpr int kWidth = 96;
constexpr int kHeight = 64;
constexpr int kFrames = 30; // 3 s at 10 fps
constexpr int kToneRate = 22050;
constexpr int kToneSamples = 3 * kToneRate;

} // namespace

class TestVideoDecode : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();

    void probe_data();
    void probe();
    void decodeMatchesFfmpeg_data();
    void decodeMatchesFfmpeg();
    void decodeAllFrames();
    void decodeIndexErrors();
    void audio_data();
    void audio();

    void missingFile();
    void textFileAsMp4();
    void noAudioStream();
    void truncated_data();
    void truncated();
    void corruptBytes();

private:
    QString file(const QString& name) const { return dir_.path() + "/" + name; }
    std::string path(const QString& name) const { return file(name).toStdString(); }
    // Skips the calling row when its fixture could not be made (encoder missing in this build).
    bool haveFixture(const QString& name) const { return QFile::exists(file(name)); }
    bool makeFixture(const QString& name, const QStringList& encoderArgs, bool withAudio);

    QString ffmpeg_;
    QString encoders_; // `ffmpeg -encoders` output
    QTemporaryDir dir_;
};

// Writes name from the lavfi sources with the given codec options; false (and a warning) when
// the ffmpeg run fails.
bool TestVideoDecode::makeFixture(const QString& name, const QStringList& encoderArgs, bool withAudio)
{
    QStringList args{"-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=3"};
    if (withAudio)
        args << "-f" << "lavfi" << "-i" << "sine=frequency=440:sample_rate=22050:duration=3";
    args << encoderArgs;
    if (withAudio)
        args << "-shortest";
    args << file(name);
    const ProcResult r = runProgram(ffmpeg_, args);
    if (r.code != 0) {
        qWarning("ffmpeg could not make %s: %s", qPrintable(name), r.err.constData());
        return false;
    }
    return true;
}

void TestVideoDecode::initTestCase()
{
    ffmpeg_ = QStandardPaths::findExecutable("ffmpeg");
    if (ffmpeg_.isEmpty())
        QSKIP("the ffmpeg CLI is not on PATH (Debian: apt install ffmpeg); it makes this suite's videos");
    QVERIFY(dir_.isValid());
    const ProcResult enc = runProgram(ffmpeg_, {"-hide_banner", "-encoders"});
    QCOMPARE(enc.code, 0);
    encoders_ = QString::fromUtf8(enc.out);
    const auto has = [&](const char* e) { return encoders_.contains(QRegularExpression(QString(" %1 ").arg(e))); };

    // Lossless video (FFV1, yuv420p by default for testsrc2) with lossless audio (FLAC) in Matroska:
    // always in Debian's ffmpeg (both are FFmpeg's own encoders).
    QVERIFY(makeFixture("ffv1_flac.mkv", {"-c:v", "ffv1", "-c:a", "flac"}, true));
    // Video only, for decodeAudioTrack's error.
    QVERIFY(makeFixture("video_only.mkv", {"-c:v", "ffv1"}, false));
    // Lossless H.264 (yuv444p, -qp 0) with AAC in MP4 (moov at the end, ffmpeg's default).
    if (has("libx264"))
        makeFixture("x264_aac.mp4", {"-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", "-c:a", "aac"}, true);
    // Lossless VP9 with Opus (48 kHz: libopus does not take 22.05 kHz, ffmpeg resamples) in WebM.
    if (has("libvpx-vp9") && has("libopus"))
        makeFixture("vp9_opus.webm", {"-c:v", "libvpx-vp9", "-lossless", "1", "-c:a", "libopus"}, true);
}

void TestVideoDecode::probe_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("hasAudio");
    QTest::newRow("ffv1+flac mkv") << "ffv1_flac.mkv" << true;
    QTest::newRow("video-only mkv") << "video_only.mkv" << false;
    QTest::newRow("x264+aac mp4") << "x264_aac.mp4" << true;
    QTest::newRow("vp9+opus webm") << "vp9_opus.webm" << true;
}

void TestVideoDecode::probe()
{
    QFETCH(QString, name);
    QFETCH(bool, hasAudio);
    if (!haveFixture(name))
        QSKIP("this ffmpeg build lacks the encoder for this row (libx264, or libvpx-vp9 + libopus)");
    const VideoInfo info = probeVideo(path(name));
    QCOMPARE(info.frames, int64_t(kFrames));
    QCOMPARE(info.fps, 10.0); // 10/1 exactly
    QCOMPARE(info.width, kWidth);
    QCOMPARE(info.height, kHeight);
    QCOMPARE(info.hasAudio, hasAudio);
    // The container's duration: 3 s of video; the audio track (cut by -shortest at a codec frame)
    // may run a little longer. 0.1 s covers an AAC/Opus/FLAC frame at these rates (< 0.1 s).
    QVERIFY2(std::fabs(info.durationSeconds - 3.0) < 0.1, qPrintable(QString::number(info.durationSeconds)));
}

void TestVideoDecode::decodeMatchesFfmpeg_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("ffv1 yuv420p mkv") << "ffv1_flac.mkv";
    QTest::newRow("x264 yuv444p mp4") << "x264_aac.mp4";
    QTest::newRow("vp9 webm") << "vp9_opus.webm";
}

// Frames 0, 7 and 29 against the same frames the ffmpeg CLI extracts to rgb24. Tolerance 0: both
// sides run the same libavcodec decoder (bit-exact by design, lossless or not) and the same
// libswscale conversion (flags=bicubic, the frame's BT.601 matrix and limited range), so any
// difference is a bug in the frame count or the conversion.
void TestVideoDecode::decodeMatchesFfmpeg()
{
    QFETCH(QString, name);
    if (!haveFixture(name))
        QSKIP("this ffmpeg build lacks the encoder for this row (libx264, or libvpx-vp9 + libopus)");
    const std::vector<int64_t> indices{0, 7, 29};
    const std::vector<RgbImage> frames = decodeVideoFrames(path(name), indices);
    QCOMPARE(frames.size(), indices.size());
    for (size_t i = 0; i < indices.size(); ++i) {
        const RgbImage& img = frames[i];
        QCOMPARE(img.width, kWidth);
        QCOMPARE(img.height, kHeight);
        QCOMPARE(img.pixels.size(), size_t(kWidth * kHeight * 3));

        const QString raw = file(QString("%1_frame%2.rgb").arg(name).arg(indices[i]));
        const ProcResult r = runProgram(ffmpeg_, {"-nostdin", "-y", "-v", "error", "-i", file(name), "-an", "-vf",
                                                  QString("select=eq(n\\,%1)").arg(indices[i]), "-vframes", "1",
                                                  "-pix_fmt", "rgb24", "-f", "rawvideo", raw});
        QVERIFY2(r.code == 0, r.err.constData());
        QFile f(raw);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray ref = f.readAll();
        QCOMPARE(qsizetype(ref.size()), qsizetype(img.pixels.size()));
        int maxDiff = 0;
        qsizetype differing = 0;
        for (qsizetype k = 0; k < ref.size(); ++k) {
            const int d = std::abs(int(uint8_t(ref[k])) - int(img.pixels[size_t(k)]));
            maxDiff = std::max(maxDiff, d);
            differing += d != 0;
        }
        QVERIFY2(maxDiff == 0, qPrintable(QString("frame %1: %2 bytes differ, by up to %3")
                                              .arg(indices[i])
                                              .arg(differing)
                                              .arg(maxDiff)));
    }
    // Consecutive testsrc2 frames differ (its moving parts), so a frame-count slip would show.
    QVERIFY(frames[0].pixels != frames[1].pixels);
}

void TestVideoDecode::decodeAllFrames()
{
    std::vector<int64_t> all;
    for (int i = 0; i < kFrames; ++i)
        all.push_back(i);
    const std::vector<RgbImage> frames = decodeVideoFrames(path("ffv1_flac.mkv"), all);
    QCOMPARE(frames.size(), size_t(kFrames));
    for (const RgbImage& f : frames) {
        QCOMPARE(f.width, kWidth);
        QCOMPARE(f.height, kHeight);
    }
    QVERIFY(decodeVideoFrames(path("ffv1_flac.mkv"), {}).empty());
}

void TestVideoDecode::decodeIndexErrors()
{
    const std::string p = path("ffv1_flac.mkv");
    // 30 frames: index 30 is one past the end; the message says how many there were.
    expectInputError([&] { decodeVideoFrames(p, {3, 30}); }, p);
    expectInputError([&] { decodeVideoFrames(p, {30}); }, "decoded to 30 frame");
    expectInputError([&] { decodeVideoFrames(p, {5, 5}); }, "strictly increasing");
    expectInputError([&] { decodeVideoFrames(p, {7, 2}); }, p);
    expectInputError([&] { decodeVideoFrames(p, {-1}); }, "non-negative");
}

void TestVideoDecode::audio_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("rate");
    QTest::addColumn<int>("tolerance"); // samples, either way from 3 s * rate
    // FLAC is lossless and frame-exact: all 66150 samples.
    QTest::newRow("flac in mkv") << "ffv1_flac.mkv" << kToneRate << 0;
    // AAC: the mp4 edit list drops the 1024 priming samples; the last frame may be padded to a
    // whole 1024-sample frame, so up to one frame either way.
    QTest::newRow("aac in mp4") << "x264_aac.mp4" << kToneRate << 1024;
    // Opus at 48 kHz: pre-skip is dropped from the header; up to one 20 ms frame (960) either way.
    QTest::newRow("opus in webm") << "vp9_opus.webm" << 48000 << 960;
}

void TestVideoDecode::audio()
{
    QFETCH(QString, name);
    QFETCH(int, rate);
    QFETCH(int, tolerance);
    if (!haveFixture(name))
        QSKIP("this ffmpeg build lacks the encoder for this row (libx264, or libvpx-vp9 + libopus)");
    const DecodedAudio a = decodeAudioTrack(path(name));
    QCOMPARE(a.sampleRate, rate);
    QCOMPARE(a.sourceChannels, 1);
    const long expected = 3L * rate;
    QVERIFY2(std::labs(long(a.samples.size()) - expected) <= tolerance,
             qPrintable(QString("%1 samples, expected %2 +- %3").arg(a.samples.size()).arg(expected).arg(tolerance)));
    // ffmpeg's sine source has amplitude 1/8: RMS 0.125 / sqrt(2) = 0.0884. Within 10% for the
    // lossy codecs (and the edges of the priming / padding).
    double sum = 0.0;
    for (float s : a.samples)
        sum += double(s) * double(s);
    const double rms = std::sqrt(sum / double(a.samples.size()));
    const double want = 0.125 / std::sqrt(2.0);
    QVERIFY2(std::fabs(rms - want) < 0.1 * want, qPrintable(QString("RMS %1, expected %2").arg(rms).arg(want)));
}

void TestVideoDecode::missingFile()
{
    const std::string p = path("no_such_video.mp4");
    expectInputError([&] { probeVideo(p); }, p);
    expectInputError([&] { decodeVideoFrames(p, {0}); }, p);
    expectInputError([&] { decodeAudioTrack(p); }, p);
    expectInputError([&] { probeVideo(p); }, "not found");
}

void TestVideoDecode::textFileAsMp4()
{
    const QString name = "notes.mp4";
    QFile f(file(name));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("These are meeting notes, not a video.\nSecond line of plain text.\n");
    f.close();
    const std::string p = path(name);
    expectInputError([&] { probeVideo(p); }, p);
    expectInputError([&] { decodeVideoFrames(p, {0}); }, p);
    expectInputError([&] { decodeAudioTrack(p); }, p);
}

void TestVideoDecode::noAudioStream()
{
    const std::string p = path("video_only.mkv");
    expectInputError([&] { decodeAudioTrack(p); }, p);
    expectInputError([&] { decodeAudioTrack(p); }, "no audio stream");
}

void TestVideoDecode::truncated_data()
{
    QTest::addColumn<QString>("name");
    // MP4 with its moov atom at the end: half the file has no index, so opening fails.
    QTest::newRow("mp4") << "x264_aac.mp4";
    // Matroska streams its clusters: half the file may still give the first frames.
    QTest::newRow("mkv") << "ffv1_flac.mkv";
    QTest::newRow("webm") << "vp9_opus.webm";
}

// The first half of the file's bytes: either fewer frames than the whole, or InputError naming
// the file; never a crash or another exception type.
void TestVideoDecode::truncated()
{
    QFETCH(QString, name);
    if (!haveFixture(name))
        QSKIP("this ffmpeg build lacks the encoder for this row (libx264, or libvpx-vp9 + libopus)");
    QFile whole(file(name));
    QVERIFY(whole.open(QIODevice::ReadOnly));
    const QByteArray bytes = whole.readAll();
    const QString cutName = "half_" + name;
    QFile cut(file(cutName));
    QVERIFY(cut.open(QIODevice::WriteOnly));
    QCOMPARE(cut.write(bytes.left(bytes.size() / 2)), bytes.size() / 2);
    cut.close();
    const std::string p = path(cutName);

    int64_t probed = -1;
    try {
        probed = probeVideo(p).frames;
        QVERIFY2(probed < kFrames, qPrintable(QString("%1 frames in half a file").arg(probed)));
    } catch (const InputError& e) {
        QVERIFY2(std::string(e.what()).find(p) != std::string::npos, e.what());
    }
    // Every frame up to the whole file's count: the last index cannot be reached.
    std::vector<int64_t> all;
    for (int i = 0; i < kFrames; ++i)
        all.push_back(i);
    expectInputError([&] { decodeVideoFrames(p, all); }, p);
    if (probed > 0) { // what is there decodes, or fails with InputError
        try {
            const std::vector<RgbImage> first = decodeVideoFrames(p, {0});
            QCOMPARE(first.size(), size_t(1));
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find(p) != std::string::npos, e.what());
        }
    }
    try {
        decodeAudioTrack(p);
    } catch (const InputError& e) {
        QVERIFY2(std::string(e.what()).find(p) != std::string::npos, e.what());
    }
}

// Random bytes overwritten in each fixture (1 to 20 of them, fixed seeds): every call either
// succeeds or throws InputError naming the file; a crash or another exception type fails the suite.
void TestVideoDecode::corruptBytes()
{
    std::vector<int64_t> all;
    for (int i = 0; i < kFrames; ++i)
        all.push_back(i);
    for (const QString& name : {QString("ffv1_flac.mkv"), QString("x264_aac.mp4"), QString("vp9_opus.webm")}) {
        if (!haveFixture(name))
            continue;
        QFile whole(file(name));
        QVERIFY(whole.open(QIODevice::ReadOnly));
        const QByteArray bytes = whole.readAll();
        for (int seed = 0; seed < 20; ++seed) {
            std::mt19937 rng{uint32_t(seed)};
            QByteArray b = bytes;
            for (int i = 0; i <= seed; ++i)
                b[qsizetype(rng() % uint32_t(b.size()))] = char(rng() & 0xFF);
            const QString cutName = QString("corrupt%1_").arg(seed) + name;
            QFile out(file(cutName));
            QVERIFY(out.open(QIODevice::WriteOnly));
            QCOMPARE(out.write(b), b.size());
            out.close();
            const std::string p = path(cutName);
            const auto inputErrorOrNothing = [&](auto f) {
                try {
                    f();
                } catch (const InputError& e) {
                    QVERIFY2(std::string(e.what()).find(p) != std::string::npos, e.what());
                }
            };
            inputErrorOrNothing([&] { probeVideo(p); });
            inputErrorOrNothing([&] { decodeVideoFrames(p, all); });
            inputErrorOrNothing([&] { decodeAudioTrack(p); });
        }
    }
}

QTEST_APPLESS_MAIN(TestVideoDecode)
#include "tst_video_decode.moc"
