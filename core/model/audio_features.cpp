#include "model/audio_features.h"

#include "common/error.h"

#include <ATen/ATen.h>

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace mq::core {

namespace {

constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = 15.0;
// Mel per natural-log unit above 1 kHz: 27 mel span a factor of 6.4 in frequency.
const double kLogStep = 27.0 / std::log(6.4);

struct SndfileCloser {
    void operator()(SNDFILE* f) const { sf_close(f); }
};

std::vector<float> resample(const std::vector<float>& in, int fromRate, const std::string& path)
{
    const double ratio = double(whisper::kSampleRate) / double(fromRate);
    // A little slack: libsamplerate may emit one frame more than the rounded product.
    std::vector<float> out(size_t(std::ceil(double(in.size()) * ratio)) + 16);
    SRC_DATA d{};
    d.data_in = in.data();
    d.input_frames = long(in.size());
    d.data_out = out.data();
    d.output_frames = long(out.size());
    d.src_ratio = ratio;
    d.end_of_input = 1;
    if (const int err = src_simple(&d, SRC_SINC_BEST_QUALITY, 1))
        throw InputError(describe(path, "", std::string("cannot resample from ") + std::to_string(fromRate)
                                                + " Hz to 16000 Hz: " + src_strerror(err)));
    out.resize(size_t(d.output_frames_gen));
    return out;
}

} // namespace

AudioClip loadAudio(const std::string& path)
{
    SF_INFO info{};
    std::unique_ptr<SNDFILE, SndfileCloser> file(sf_open(path.c_str(), SFM_READ, &info));
    if (!file)
        // sf_strerror(nullptr) reports why the last sf_open failed (missing file, unknown format, ...).
        throw InputError(describe(path, "", std::string("cannot read audio (expected a file libsndfile reads, "
                                                        "e.g. WAV/FLAC/OGG): ")
                                                + sf_strerror(nullptr)));
    if (info.channels <= 0 || info.samplerate <= 0)
        throw InputError(describe(path, "", "audio header has " + std::to_string(info.channels) + " channels at "
                                                + std::to_string(info.samplerate) + " Hz; expected at least 1 channel "
                                                                                   "and a positive rate"));
    if (info.frames <= 0)
        throw InputError(describe(path, "", "audio has no frames; expected at least one sample"));

    // Read in blocks rather than trusting info.frames for the allocation: some containers report
    // a frame count that the data does not reach.
    const int ch = info.channels;
    std::vector<float> mono;
    mono.reserve(size_t(std::min<sf_count_t>(info.frames, sf_count_t(1) << 28)));
    std::vector<float> block(size_t(4096) * size_t(ch));
    for (;;) {
        const sf_count_t got = sf_readf_float(file.get(), block.data(), 4096);
        if (got <= 0)
            break;
        for (sf_count_t i = 0; i < got; ++i) {
            float s = 0.0f;
            for (int c = 0; c < ch; ++c)
                s += block[size_t(i) * size_t(ch) + size_t(c)];
            mono.push_back(ch == 1 ? s : s / float(ch));
        }
    }
    if (sf_error(file.get()) != SF_ERR_NO_ERROR)
        throw InputError(describe(path, "", std::string("error while reading audio samples: ")
                                                + sf_strerror(file.get())));
    if (mono.empty())
        throw InputError(describe(path, "", "audio has no readable frames; expected at least one sample"));

    AudioClip clip;
    clip.sourceRate = info.samplerate;
    clip.sourceChannels = ch;
    clip.samples = info.samplerate == whisper::kSampleRate ? std::move(mono)
                                                           : resample(mono, info.samplerate, path);
    return clip;
}

double hzToMelSlaney(double hz)
{
    if (hz < kMinLogHz)
        return 3.0 * hz / 200.0;
    return kMinLogMel + std::log(hz / kMinLogHz) * kLogStep;
}

double melToHzSlaney(double mel)
{
    if (mel < kMinLogMel)
        return 200.0 * mel / 3.0;
    return kMinLogHz * std::exp((mel - kMinLogMel) / kLogStep);
}

std::vector<double> melFilterBank(int nMels)
{
    if (nMels <= 0)
        throw InputError("mel filter bank: expected a positive number of mel bins, got " + std::to_string(nMels));
    const int nFreq = whisper::kFreqBins;
    const double melMin = hzToMelSlaney(0.0);
    const double melMax = hzToMelSlaney(whisper::kSampleRate / 2.0);
    // Same construction as transformers.audio_utils (np.linspace in mel, then back to Hz) so
    // the filters agree with the processor to double rounding.
    std::vector<double> f(size_t(nMels) + 2);
    for (int i = 0; i < nMels + 2; ++i)
        f[size_t(i)] = melToHzSlaney(melMin + (melMax - melMin) * double(i) / double(nMels + 1));
    std::vector<double> bank(size_t(nMels) * size_t(nFreq), 0.0);
    for (int m = 0; m < nMels; ++m) {
        const double lo = f[size_t(m)], mid = f[size_t(m) + 1], hi = f[size_t(m) + 2];
        const double norm = 2.0 / (hi - lo);
        for (int k = 0; k < nFreq; ++k) {
            const double hz = double(k) * (whisper::kSampleRate / 2.0) / double(nFreq - 1);
            const double up = (hz - lo) / (mid - lo);
            const double down = (hi - hz) / (hi - mid);
            bank[size_t(m) * size_t(nFreq) + size_t(k)] = std::max(0.0, std::min(up, down)) * norm;
        }
    }
    return bank;
}

std::vector<float> hannWindowPeriodic(int n)
{
    // torch.hann_window computes in float32; reuse it so the STFT window and this one agree bit
    // for bit with the processor's torch path.
    at::Tensor w = at::hann_window(n, /*periodic=*/true, at::TensorOptions().dtype(at::kFloat)).contiguous();
    return std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + n);
}

LogMel whisperLogMel(const std::vector<float>& samples16k, int nMels, int64_t padToSamples)
{
    using namespace whisper;
    if (nMels <= 0)
        throw InputError("whisperLogMel: expected a positive number of mel bins, got " + std::to_string(nMels));
    if (padToSamples < 0)
        throw InputError("whisperLogMel: expected padToSamples >= 0, got " + std::to_string(padToSamples));

    const int64_t n = int64_t(samples16k.size());
    const int64_t total = padToSamples > 0 ? padToSamples : n; // length the processor transforms
    const int64_t kept = std::min(n, total);
    // Zeros beyond the clip give exactly zero power, so a frame whose window [160t-200, 160t+200)
    // lies past the clip is the silent value. Transforming clip + 400 zeros keeps every frame
    // that touches the clip identical, end reflection included (it reflects only zeros).
    const int64_t prefix = std::min(total, kept + kNFft);
    if (prefix <= kNFft / 2)
        throw InputError("whisperLogMel: expected more than " + std::to_string(kNFft / 2)
                         + " samples for the centered reflect padding, got " + std::to_string(prefix));

    LogMel out;
    out.nMels = nMels;
    out.frames = total / kHop; // 1 + total/160 STFT frames, the last one dropped
    out.validFrames = std::min<int64_t>((kept + kHop - 1) / kHop, out.frames);

    at::Tensor x = at::zeros({prefix}, at::kFloat);
    std::copy(samples16k.data(), samples16k.data() + kept, x.data_ptr<float>());
    const at::Tensor window = at::hann_window(kNFft, /*periodic=*/true, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor spec = at::stft(x, kNFft, kHop, kNFft, window, /*center=*/true, "reflect",
                                     /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
    const int64_t computed = std::min<int64_t>(spec.size(1), out.frames);
    const at::Tensor power = at::abs(spec.slice(1, 0, computed)).pow(2); // [201, computed]

    const std::vector<double> bankD = melFilterBank(nMels);
    at::Tensor bank = at::empty({nMels, kFreqBins}, at::kFloat);
    std::copy(bankD.begin(), bankD.end(), bank.data_ptr<float>());
    at::Tensor logSpec = at::matmul(bank, power).clamp_min(1e-10).log10_(); // [nMels, computed]

    // Frames never transformed are log10(1e-10) = -10; they take part in the max like the rest.
    constexpr float kSilent = -10.0f;
    float maxL = computed > 0 ? logSpec.max().item<float>() : kSilent;
    if (computed < out.frames)
        maxL = std::max(maxL, kSilent);
    logSpec = at::maximum(logSpec, at::scalar_tensor(maxL - 8.0f, at::kFloat)).add_(4.0f).div_(4.0f).contiguous();

    const float silentOut = (std::max(kSilent, maxL - 8.0f) + 4.0f) / 4.0f;
    out.data.assign(size_t(nMels) * size_t(out.frames), silentOut);
    const float* src = logSpec.data_ptr<float>();
    for (int m = 0; m < nMels; ++m)
        std::copy(src + int64_t(m) * computed, src + int64_t(m + 1) * computed,
                  out.data.begin() + int64_t(m) * out.frames);
    return out;
}

LogMel audioFileLogMel(const std::string& path, int nMels)
{
    return samplesLogMel(loadAudio(path).samples, nMels, path);
}

std::vector<float> resampleTo16k(const std::vector<float>& mono, int rate, const std::string& source)
{
    if (rate <= 0)
        throw InputError(describe(source, "", "audio sample rate " + std::to_string(rate) + " (expected above 0)"));
    return rate == whisper::kSampleRate ? mono : resample(mono, rate, source);
}

LogMel samplesLogMel(const std::vector<float>& samples16k, int nMels, const std::string& source)
{
    try {
        return whisperLogMel(samples16k, nMels);
    } catch (const InputError& e) {
        throw InputError(describe(source, "", std::string("audio too short for Whisper's features: ") + e.what()));
    }
}

} // namespace mq::core
