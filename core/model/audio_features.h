#pragma once
// Audio input for the Qwen2.5-Omni audio tower: file -> mono 16 kHz samples -> Whisper log-mel,
// computed the way the processor's WhisperFeatureExtractor (torch path, float32) does it.
// All functions are pure and thread-safe; they hold no state between calls.
#include <cstdint>
#include <string>
#include <vector>

namespace mq::core {

namespace whisper {
constexpr int kSampleRate = 16000;
constexpr int kNFft = 400;                     // 25 ms window
constexpr int kHop = 160;                      // 10 ms step
constexpr int kFreqBins = kNFft / 2 + 1;       // 201 one-sided bins
constexpr int64_t kPaddedSamples = 4'800'000;  // 300 s, the processor's n_samples
} // namespace whisper

// Mono samples in [-1, 1) at 16 kHz (sampleRate is always 16000 after loadAudio).
struct AudioClip {
    std::vector<float> samples;
    int sampleRate = whisper::kSampleRate;
    int sourceRate = 0;     // rate of the file before resampling, Hz
    int sourceChannels = 0; // channels of the file before downmixing
};

// Reads anything libsndfile reads (WAV, FLAC, OGG, ...), averages the channels and resamples to
// 16 kHz with libsamplerate SRC_SINC_BEST_QUALITY when the file's rate differs.
// The processor resamples with librosa (soxr); samples near the resampler's transition band
// therefore differ slightly from Python, and 16 kHz files match exactly.
// Throws InputError naming the file: missing/unreadable, unknown format, corrupt header, no frames.
AudioClip loadAudio(const std::string& path);

// Log-mel features, row-major [nMels, frames], float32.
struct LogMel {
    std::vector<float> data;
    int nMels = 0;
    int64_t frames = 0;      // columns in data (30000 when padded to the processor's length)
    int64_t validFrames = 0; // ceil(samples/160): the frames feature_attention_mask keeps
    float at(int mel, int64_t frame) const { return data[size_t(mel) * size_t(frames) + size_t(frame)]; }
};

// Whisper log-mel as WhisperFeatureExtractor: periodic Hann 400, hop 160, centered reflect-padded
// frames, |X|^2 on 201 bins, the last STFT frame dropped, Slaney mel filters 0..8000 Hz with
// Slaney area norm, log10(max(mel, 1e-10)), max(L, max(L) - 8), (L + 4) / 4.
// padToSamples > 0: the clip is zero-padded (or truncated) to that many samples first, as the
// processor does with 4,800,000; frames = padToSamples / 160 and the max - 8 floor is taken over
// the whole padded spectrogram. padToSamples == 0: no padding, frames = samples / 160 (needs more
// than 200 samples for the reflect padding). validFrames counts the samples kept, capped at frames.
// Only frames that touch the clip are transformed; the rest are exactly the silent value, so a
// 5 s clip costs about as much as 5 s, not 300 s. Throws InputError on bad nMels or too short input.
LogMel whisperLogMel(const std::vector<float>& samples16k, int nMels = 128,
                     int64_t padToSamples = whisper::kPaddedSamples);

// loadAudio then whisperLogMel of a file: an InputError (a clip too short for the features
// included) names the file.
LogMel audioFileLogMel(const std::string& path, int nMels);
// Mono samples at `rate` Hz to 16 kHz (libsamplerate SRC_SINC_BEST_QUALITY, as loadAudio; a
// 16 kHz input is returned as it is). `source` names the file in errors.
std::vector<float> resampleTo16k(const std::vector<float>& mono, int rate, const std::string& source);
// whisperLogMel of 16 kHz samples with an InputError naming `source` for a clip too short.
LogMel samplesLogMel(const std::vector<float>& samples16k, int nMels, const std::string& source);

// Slaney mel scale (librosa htk=False): linear 3/200 mel per Hz below 1 kHz, 27/ln(6.4) per
// natural-log unit above; 1000 Hz = 15 mel.
double hzToMelSlaney(double hz);
double melToHzSlaney(double mel);

// Mel filter bank as transformers' mel_filter_bank(201, nMels, 0, 8000, 16000, "slaney",
// "slaney"), row-major [nMels, 201], double. Filter m rises from f_m to f_{m+1} and falls to
// f_{m+2} (f = nMels + 2 points evenly spaced in mel) and is scaled by 2 / (f_{m+2} - f_m).
std::vector<double> melFilterBank(int nMels);

// Periodic Hann window: w[i] = 0.5 - 0.5 cos(2 pi i / n) (torch.hann_window default).
std::vector<float> hannWindowPeriodic(int n);

} // namespace mq::core
