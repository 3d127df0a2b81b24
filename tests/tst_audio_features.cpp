// Audio input: Slaney mel scale and filter bank, the periodic Hann window, Whisper log-mel
// (silence, a 1 kHz tone, frame counts, the max - 8 floor, a hand DFT of single frames, the
// padded-prefix shortcut), and loading WAV files written here with libsndfile (mono, stereo
// downmix, 44.1 kHz resampling, bad files) plus the checked-in espeak-ng clip.
// Expected values are worked out by hand from the formulas; each comment shows the arithmetic.
#include <QtTest/QtTest>

#include <sndfile.h>

#include <cmath>
#include <complex>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "model/audio_features.h"

using namespace mq::core;

namespace {

const double kPi = 3.14159265358979323846;

// Slaney mel of 8000 Hz: 15 + ln(8000/1000) * 27/ln(6.4) = 45.2457...; 128 filters need 130
// points, i.e. 129 equal steps in mel.
double melMax() { return 15.0 + std::log(8.0) * 27.0 / std::log(6.4); }
double melStep() { return melMax() / 129.0; }

// Edge/centre frequency f_i of the filter bank, from the closed forms rather than the code:
// below 15 mel, 200/3 Hz per mel; above, 1000 * 6.4^((mel - 15)/27).
double edgeHz(int i)
{
    const double mel = melStep() * i;
    return mel < 15.0 ? 200.0 / 3.0 * mel : 1000.0 * std::pow(6.4, (mel - 15.0) / 27.0);
}

std::vector<float> sine(double hz, int rate, int64_t n, double amp = 0.5)
{
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        x[size_t(i)] = float(amp * std::sin(2.0 * kPi * hz * double(i) / rate));
    return x;
}

// Sign changes of a signal; a sine of f Hz over T s has about 2 f T of them.
int zeroCrossings(const std::vector<float>& x)
{
    int c = 0;
    for (size_t i = 1; i < x.size(); ++i)
        if ((x[i - 1] < 0.0f) != (x[i] < 0.0f))
            ++c;
    return c;
}

// Interleaved float frames -> 16-bit PCM WAV.
bool writeWav(const QString& path, int rate, int channels, const std::vector<float>& interleaved)
{
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(path.toLocal8Bit().constData(), SFM_WRITE, &info);
    if (!f)
        return false;
    const sf_count_t frames = sf_count_t(interleaved.size() / size_t(channels));
    const bool ok = frames == 0 || sf_writef_float(f, interleaved.data(), frames) == frames;
    sf_close(f);
    return ok;
}

// Runs fn and returns the InputError message, or "" (and a failure) when none was thrown.
std::string inputErrorOf(const std::function<void()>& fn)
{
    try {
        fn();
    } catch (const InputError& e) {
        return e.what();
    }
    return {};
}

// One frame of the log-mel before the max - 8 floor, in double with a direct DFT: frame t is
// centred on sample 160 t; indices outside [0, n) reflect (x[-j] = x[j], x[n-1+j] = x[n-1-j]).
std::vector<double> referenceFrame(const std::vector<float>& x, int64_t t, int nMels)
{
    const int64_t n = int64_t(x.size());
    std::vector<double> frame(400);
    for (int i = 0; i < 400; ++i) {
        int64_t j = 160 * t - 200 + i;
        if (j < 0)
            j = -j;
        if (j >= n)
            j = 2 * (n - 1) - j;
        frame[size_t(i)] = double(x[size_t(j)]) * (0.5 - 0.5 * std::cos(2.0 * kPi * i / 400.0));
    }
    std::vector<double> power(201);
    for (int k = 0; k < 201; ++k) {
        std::complex<double> s = 0.0;
        for (int i = 0; i < 400; ++i)
            s += frame[size_t(i)] * std::polar(1.0, -2.0 * kPi * double(k) * i / 400.0);
        power[size_t(k)] = std::norm(s);
    }
    const std::vector<double> bank = melFilterBank(nMels);
    std::vector<double> out(static_cast<size_t>(nMels));
    for (int m = 0; m < nMels; ++m) {
        double mel = 0.0;
        for (int k = 0; k < 201; ++k)
            mel += bank[size_t(m) * 201 + size_t(k)] * power[size_t(k)];
        out[size_t(m)] = std::log10(std::max(mel, 1e-10));
    }
    return out;
}

std::vector<float> noise(int64_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x)
        v = u(rng);
    return x;
}

} // namespace

class TestAudioFeatures : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void slaneyScale()
    {
        // Linear part: 3/200 mel per Hz, so 500 Hz = 7.5 and 1000 Hz = 15.
        QCOMPARE(hzToMelSlaney(0.0), 0.0);
        QVERIFY(std::fabs(hzToMelSlaney(500.0) - 7.5) < 1e-12);
        QVERIFY(std::fabs(hzToMelSlaney(1000.0) - 15.0) < 1e-12);
        // Log part: 2000 Hz = 15 + 27 ln 2 / ln 6.4 = 25.0817...; 6400 Hz = 15 + 27 = 42.
        QVERIFY(std::fabs(hzToMelSlaney(2000.0) - (15.0 + 27.0 * std::log(2.0) / std::log(6.4))) < 1e-12);
        QVERIFY(std::fabs(hzToMelSlaney(6400.0) - 42.0) < 1e-12);
        // Round trip across both branches; 1e-9 Hz is double rounding through exp/log.
        for (double hz : {0.0, 40.0, 999.0, 1000.0, 1001.0, 3333.0, 8000.0})
            QVERIFY(std::fabs(melToHzSlaney(hzToMelSlaney(hz)) - hz) < 1e-9);
    }

    void filterBank()
    {
        const std::vector<double> bank = melFilterBank(128);
        QCOMPARE(bank.size(), size_t(128 * 201));
        const auto at = [&](int m, int k) { return bank[size_t(m) * 201 + size_t(k)]; };

        // Filter 0 spans 0..2s Hz with s = 200/3 * 45.2457/129 = 23.38 Hz, narrower than the
        // 40 Hz bin spacing: its only non-zero bin is bin 1 (40 Hz) on the falling edge,
        // (2s - 40)/s, times the area norm 2/(2s - 0).
        const double s = 200.0 / 3.0 * melStep();
        QVERIFY(std::fabs(at(0, 1) - (2 * s - 40.0) / s * 2.0 / (2 * s)) < 1e-12);
        for (int k = 0; k < 201; ++k)
            if (k != 1)
                QCOMPARE(at(0, k), 0.0);

        // The last filter: f127 = 7623.3, f128 = 7809.4 (its peak), f129 = 8000 Hz.
        // The peak lands on bin 195 (7800 Hz): rising (7800 - f127)/(f128 - f127) = 0.949 beats
        // bin 196's falling (8000 - 7840)/(8000 - f128) = 0.839. Zero below f127 (bin 190 =
        // 7600 Hz) and at 8000 Hz.
        const double f127 = edgeHz(127), f128 = edgeHz(128), f129 = edgeHz(129);
        QVERIFY(std::fabs(f129 - 8000.0) < 1e-9);
        int peak = 0;
        for (int k = 1; k < 201; ++k)
            if (at(127, k) > at(127, peak))
                peak = k;
        QCOMPARE(peak, 195);
        // Height there, including the Slaney area norm 2/(f129 - f127); 1e-9 covers the
        // linspace-vs-closed-form rounding of the edges.
        QVERIFY(std::fabs(at(127, 195) - (7800.0 - f127) / (f128 - f127) * 2.0 / (f129 - f127)) < 1e-9);
        QCOMPARE(at(127, 190), 0.0);
        QCOMPARE(at(127, 200), 0.0);
        QVERIFY(at(127, 191) > 0.0);

        // Area normalization: a triangle of height 2/(hi - lo) over [lo, hi] has area 1 (in Hz).
        // Sampled every 40 Hz, the sum * 40 approximates it; filters above ~2 kHz span >= 7 bins,
        // where the sampling error stays below 10%.
        for (int m = 60; m < 128; ++m) {
            double area = 0.0;
            for (int k = 0; k < 201; ++k)
                area += at(m, k) * 40.0;
            QVERIFY2(std::fabs(area - 1.0) < 0.1, qPrintable(QString("filter %1 area %2").arg(m).arg(area)));
        }
        // Every filter is a triangle at most 1 high before the norm.
        for (int m = 0; m < 128; ++m)
            for (int k = 0; k < 201; ++k)
                QVERIFY(at(m, k) * (edgeHz(m + 2) - edgeHz(m)) / 2.0 <= 1.0 + 1e-9);

        QVERIFY(!inputErrorOf([] { melFilterBank(0); }).empty());
    }

    void hannWindow()
    {
        // Periodic: w[i] = 0.5 - 0.5 cos(2 pi i / 400); float32, so 1e-6.
        const std::vector<float> w = hannWindowPeriodic(400);
        QCOMPARE(w.size(), size_t(400));
        QVERIFY(std::fabs(w[0]) < 1e-6);
        QVERIFY(std::fabs(w[50] - (0.5 - 0.5 * std::sqrt(0.5))) < 1e-6); // 0.1464466
        QVERIFY(std::fabs(w[100] - 0.5) < 1e-6);
        QVERIFY(std::fabs(w[200] - 1.0) < 1e-6);
        QVERIFY(std::fabs(w[300] - 0.5) < 1e-6);
        QVERIFY(std::fabs(w[399] - w[1]) < 1e-6); // periodic: no second zero at the end
        QVERIFY(w[399] > 0.0f);
    }

    void silence()
    {
        // All power is 0 -> log10(1e-10) = -10 everywhere; max - 8 = -18 changes nothing;
        // (-10 + 4)/4 = -1.5 exactly.
        const LogMel f = whisperLogMel(std::vector<float>(16000, 0.0f));
        QCOMPARE(f.nMels, 128);
        QCOMPARE(f.frames, int64_t(30000));
        QCOMPARE(f.validFrames, int64_t(100));
        QCOMPARE(f.data.size(), size_t(128 * 30000));
        for (float v : f.data)
            QCOMPARE(v, -1.5f);
    }

    void frameCounts()
    {
        // Unpadded 1 s: centred STFT gives 1 + 16000/160 = 101 frames; the processor drops the
        // last, leaving 100 = ceil(16000/160).
        const LogMel a = whisperLogMel(std::vector<float>(16000, 0.1f), 128, 0);
        QCOMPARE(a.frames, int64_t(100));
        QCOMPARE(a.validFrames, int64_t(100));
        // 16080 samples: 1 + 100 = 101 STFT frames, 100 after the drop, though ceil(16080/160)
        // = 101; unpadded, validFrames is capped at the frames that exist.
        const LogMel b = whisperLogMel(std::vector<float>(16080, 0.1f), 128, 0);
        QCOMPARE(b.frames, int64_t(100));
        QCOMPARE(b.validFrames, int64_t(100));
        // Padded to 300 s as the processor does: 1 + 30000 frames, 30000 kept; the mask keeps
        // ceil(16080/160) = 101.
        const LogMel c = whisperLogMel(std::vector<float>(16080, 0.1f));
        QCOMPARE(c.frames, int64_t(30000));
        QCOMPARE(c.validFrames, int64_t(101));
        // Other mel counts and pad lengths: 80 mels, 2 s pad -> 200 frames.
        const LogMel d = whisperLogMel(std::vector<float>(1000, 0.1f), 80, 32000);
        QCOMPARE(d.nMels, 80);
        QCOMPARE(d.frames, int64_t(200));
        QCOMPARE(d.validFrames, int64_t(7)); // ceil(1000/160)
        // Longer than the pad: truncated, as the processor truncates to n_samples.
        const LogMel e = whisperLogMel(std::vector<float>(40000, 0.1f), 128, 32000);
        QCOMPARE(e.frames, int64_t(200));
        QCOMPARE(e.validFrames, int64_t(200));
    }

    void sineOneKilohertz()
    {
        // The nearest filter centre f_{m+1} to 1000 Hz, from the closed forms: 15/0.35074 =
        // 42.77 steps, so f_43 = 1005.5 Hz (filter 42) beats f_42 = 982.2 Hz (filter 41).
        int nearest = 0;
        for (int m = 0; m < 128; ++m)
            if (std::fabs(edgeHz(m + 1) - 1000.0) < std::fabs(edgeHz(nearest + 1) - 1000.0))
                nearest = m;
        QCOMPARE(nearest, 42);
        const LogMel f = whisperLogMel(sine(1000.0, 16000, 16000), 128, 0);
        QCOMPARE(f.frames, int64_t(100));
        for (int64_t t = 5; t < 95; ++t) {
            int best = 0;
            for (int m = 1; m < 128; ++m)
                if (f.at(m, t) > f.at(best, t))
                    best = m;
            QCOMPARE(best, nearest);
        }
    }

    void maxMinusEightFloor()
    {
        // A loud tone padded with silence: the padded frames are -10 before the floor, far
        // below max - 8, so they and every quiet bin sit exactly at the floor. In output units
        // (L + 4)/4 the floor is max_out - 8/4 = max_out - 2.
        const LogMel f = whisperLogMel(sine(1000.0, 16000, 16000, 0.9), 128, 16000 * 4);
        float maxOut = -1e30f, minOut = 1e30f;
        for (float v : f.data) {
            maxOut = std::max(maxOut, v);
            minOut = std::min(minOut, v);
        }
        QVERIFY(maxOut > -1.5f + 2.0f); // the tone lifts max above -10 + 8
        // 1e-5: the floor is computed in float32 as (max - 8 + 4)/4.
        QVERIFY(std::fabs(minOut - (maxOut - 2.0f)) < 1e-5);
        QVERIFY(std::fabs(f.at(0, f.frames - 1) - (maxOut - 2.0f)) < 1e-5); // a padded frame
    }

    void matchesHandDft()
    {
        // Noise keeps every mel bin within a few decades, so the floor is inactive and the
        // output is (L + 4)/4 of the double reference. Frames 0 and 99 exercise the reflect
        // padding at both ends. 2e-5 in output units ~ 1e-4 relative in mel energy: float32
        // FFT and matmul against double.
        const std::vector<float> x = noise(16000, 7);
        const LogMel f = whisperLogMel(x, 128, 0);
        for (int64_t t : {int64_t(0), int64_t(1), int64_t(50), int64_t(98), int64_t(99)}) {
            const std::vector<double> ref = referenceFrame(x, t, 128);
            for (int m = 0; m < 128; ++m) {
                const double want = (ref[size_t(m)] + 4.0) / 4.0;
                QVERIFY2(std::fabs(f.at(m, t) - want) < 2e-5,
                         qPrintable(QString("frame %1 mel %2: %3 vs %4").arg(t).arg(m).arg(f.at(m, t)).arg(want)));
            }
        }
    }

    void paddedShortcutIsExact()
    {
        // Padding to P transforms only clip + 400 samples; the same clip zero-padded by hand and
        // transformed in full (padToSamples = 0) must agree to float rounding of the matmul.
        const std::vector<float> x = noise(5000, 11);
        const int64_t pad = 16000;
        std::vector<float> full = x;
        full.resize(size_t(pad), 0.0f);
        const LogMel a = whisperLogMel(x, 128, pad);
        const LogMel b = whisperLogMel(full, 128, 0);
        QCOMPARE(a.frames, b.frames);
        QCOMPARE(a.validFrames, int64_t(32)); // ceil(5000/160)
        for (size_t i = 0; i < a.data.size(); ++i)
            QVERIFY2(std::fabs(a.data[i] - b.data[i]) < 1e-5, qPrintable(QString::number(i)));
    }

    void speed()
    {
        // A 5 s clip padded to 300 s, as the processor feeds it, in well under a second.
        const std::vector<float> x = noise(5 * 16000, 3);
        QElapsedTimer timer;
        timer.start();
        const LogMel f = whisperLogMel(x);
        const qint64 ms = timer.elapsed();
        qInfo("5 s clip -> [128, %lld] log-mel in %lld ms", static_cast<long long>(f.frames), static_cast<long long>(ms));
        QCOMPARE(f.validFrames, int64_t(500));
        QVERIFY(ms < 1000);
    }

    void badFeatureInput()
    {
        QVERIFY(!inputErrorOf([] { whisperLogMel(std::vector<float>(100, 0.0f), 128, 0); }).empty());
        QVERIFY(!inputErrorOf([] { whisperLogMel(std::vector<float>(1000, 0.0f), 0); }).empty());
        QVERIFY(!inputErrorOf([] { whisperLogMel(std::vector<float>(1000, 0.0f), 128, -1); }).empty());
    }

    void loadMono16k()
    {
        QVERIFY(m_tmp.isValid());
        const QString path = m_tmp.filePath("mono16k.wav");
        const std::vector<float> x = sine(440.0, 16000, 8000);
        QVERIFY(writeWav(path, 16000, 1, x));
        const AudioClip clip = loadAudio(path.toStdString());
        QCOMPARE(clip.sampleRate, 16000);
        QCOMPARE(clip.sourceRate, 16000);
        QCOMPARE(clip.sourceChannels, 1);
        QCOMPARE(clip.samples.size(), x.size());
        // 16-bit PCM: one step is 1/32768 = 3.1e-5; 1e-4 allows rounding plus libsndfile's
        // 32767-write / 32768-read scaling.
        for (size_t i = 0; i < x.size(); ++i)
            QVERIFY(std::fabs(clip.samples[i] - x[i]) < 1e-4);
    }

    void loadStereoDownmix()
    {
        // L = 0.25, R = 0.75 -> average 0.5 (within the 16-bit step).
        const QString path = m_tmp.filePath("stereo16k.wav");
        std::vector<float> inter;
        for (int i = 0; i < 1600; ++i) {
            inter.push_back(0.25f);
            inter.push_back(0.75f);
        }
        QVERIFY(writeWav(path, 16000, 2, inter));
        const AudioClip clip = loadAudio(path.toStdString());
        QCOMPARE(clip.sourceChannels, 2);
        QCOMPARE(clip.samples.size(), size_t(1600));
        for (float v : clip.samples)
            QVERIFY(std::fabs(v - 0.5f) < 1e-4);
    }

    void loadStereoResampled()
    {
        // 1 s of a 440 Hz sine at 44.1 kHz in both channels -> 16000 samples (ratio 16000/44100,
        // +-2 for the resampler's edge handling) with the same 880 +- 2 sign changes.
        const QString path = m_tmp.filePath("stereo44k.wav");
        const std::vector<float> mono = sine(440.0, 44100, 44100);
        std::vector<float> inter;
        for (float v : mono) {
            inter.push_back(v);
            inter.push_back(v);
        }
        QVERIFY(writeWav(path, 44100, 2, inter));
        const AudioClip clip = loadAudio(path.toStdString());
        QCOMPARE(clip.sourceRate, 44100);
        QCOMPARE(clip.sourceChannels, 2);
        QCOMPARE(clip.sampleRate, 16000);
        QVERIFY2(std::abs(int64_t(clip.samples.size()) - 16000) <= 2, qPrintable(QString::number(clip.samples.size())));
        const int zcIn = zeroCrossings(mono), zcOut = zeroCrossings(clip.samples);
        QVERIFY2(std::abs(zcIn - 880) <= 2 && std::abs(zcOut - zcIn) <= 2,
                 qPrintable(QString("%1 -> %2").arg(zcIn).arg(zcOut)));
        // Amplitude kept: the peak of a 0.5 sine stays near 0.5 (sinc passband ripple is tiny).
        float peak = 0.0f;
        for (size_t i = 100; i + 100 < clip.samples.size(); ++i)
            peak = std::max(peak, std::fabs(clip.samples[i]));
        QVERIFY(std::fabs(peak - 0.5f) < 0.01f);
    }

    void badFiles_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("content"); // empty: do not create the file
        QTest::addColumn<bool>("fromValidWav");  // start from a real WAV and keep `content.size()` bytes
        QTest::newRow("missing") << "missing.wav" << QByteArray() << false;
        QTest::newRow("text named .wav") << "text.wav" << QByteArray("this is not audio, just text\n") << false;
        QTest::newRow("truncated header") << "truncated.wav" << QByteArray(20, 'x') << true;
        QTest::newRow("no frames") << "empty.wav" << QByteArray("0") << true;
    }

    void badFiles()
    {
        QFETCH(QString, name);
        QFETCH(QByteArray, content);
        QFETCH(bool, fromValidWav);
        const QString path = m_tmp.filePath(name);
        if (fromValidWav) {
            const bool noFrames = content == "0";
            QVERIFY(writeWav(path, 16000, 1, noFrames ? std::vector<float>() : sine(440.0, 16000, 1600)));
            if (!noFrames)
                QVERIFY(QFile::resize(path, content.size())); // cut inside the 44-byte header
        } else if (!content.isEmpty()) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
        }
        const std::string msg = inputErrorOf([&] { loadAudio(path.toStdString()); });
        QVERIFY2(!msg.empty(), "expected InputError");
        QVERIFY2(msg.find(path.toStdString()) != std::string::npos, msg.c_str());
        qInfo("%s", msg.c_str());
    }

    void espeakClip()
    {
        // tests/data/audio/hello.wav: espeak-ng -w hello.wav "hello world" (22050 Hz mono 16-bit).
        const std::string path = std::string(MQ_TEST_DATA_DIR) + "/audio/hello.wav";
        if (!QFile::exists(QString::fromStdString(path)))
            QSKIP("tests/data/audio/hello.wav not present");
        const AudioClip clip = loadAudio(path);
        QCOMPARE(clip.sourceRate, 22050);
        QVERIFY(clip.samples.size() > 8000); // "hello world" is about a second
        const LogMel f = whisperLogMel(clip.samples);
        QCOMPARE(f.frames, int64_t(30000));
        QCOMPARE(f.validFrames, int64_t((clip.samples.size() + 159) / 160));
        float maxOut = -1e30f;
        for (float v : f.data) {
            QVERIFY(std::isfinite(v));
            maxOut = std::max(maxOut, v);
        }
        // Speech is louder than the padding, and the padding sits at the floor max - 2.
        QVERIFY(maxOut > 0.0f);
        QVERIFY(std::fabs(f.at(0, f.frames - 1) - (maxOut - 2.0f)) < 1e-5);
    }
};

QTEST_APPLESS_MAIN(TestAudioFeatures)
#include "tst_audio_features.moc"
