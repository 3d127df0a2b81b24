#pragma once
// Calibration data as the pipeline sees it: a list of batches that can each be run through a
// decoder (full precision or with quantized weights) with a ForwardHook. Token datasets and
// Qwen2.5-Omni manifests (text, image, audio, video) both implement it.
#include <string>
#include <vector>

#include "io/token_data.h"
#include "model/decoder.h"

namespace mq::core {

class EncoderQuant;

class CalibrationData {
public:
    virtual ~CalibrationData() = default;
    virtual std::string source() const = 0;
    // What the source is, as CalibrationInfo::kind stores it: "tokens" or "manifest".
    virtual std::string kind() const = 0;
    // Samples per forward (CalibrationInfo::batchSize).
    virtual int batchSize() const = 0;
    virtual size_t samples() const = 0;
    virtual size_t batches() const = 0;
    // Input groups beyond the decoder's (encoder towers), numbered after the decoder's groups.
    virtual std::vector<std::string> extraGroups() const { return {}; }
    // Batch i's decoder input: embeddings with any encoder features placed, modality tags and
    // positions. hook sees the encoder towers' Linear inputs (extra groups G..) while they run;
    // with observeEncoders false a source may serve features it computed before (no hook calls).
    virtual DecoderInput prepare(size_t i, const DecoderModel& decoder, ForwardHook* hook,
                                 bool observeEncoders = true) const = 0;
    // Batch i's decoder input with the encoders quantized as enc says (encoder_quant.h); a source
    // without encoders returns prepare(i, decoder, nullptr, false).
    virtual DecoderInput prepareQuantized(size_t i, const DecoderModel& decoder, const EncoderQuant& enc) const
    {
        (void)enc;
        return prepare(i, decoder, nullptr, false);
    }
    // Runs batch i through the decoder with hook (decoder groups 0..G-1, extra groups G..).
    void run(size_t i, const DecoderModel& decoder, ForwardHook* hook) const;
};

// A JSONL token dataset, sequences of equal length batched together.
class TokenCalibration : public CalibrationData {
public:
    TokenCalibration(const TokenDataset& data, int batchSize);
    std::string source() const override { return m_data.path; }
    std::string kind() const override { return "tokens"; }
    int batchSize() const override { return m_batchSize; }
    size_t samples() const override { return m_data.sequences.size(); }
    size_t batches() const override { return m_batches.size(); }
    DecoderInput prepare(size_t i, const DecoderModel& decoder, ForwardHook* hook,
                         bool observeEncoders = true) const override;

private:
    const TokenDataset& m_data;
    int m_batchSize;
    std::vector<std::vector<size_t>> m_batches;
};

} // namespace mq::core
