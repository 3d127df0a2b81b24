#include "calib/calib_data.h"

#include "eval/perplexity.h"

namespace mq::core {

TokenCalibration::TokenCalibration(const TokenDataset& data, int batchSize)
    : m_data(data), m_batchSize(std::max(1, batchSize)), m_batches(equalLengthBatches(data, m_batchSize))
{
}

void CalibrationData::run(size_t i, const DecoderModel& decoder, ForwardHook* hook) const
{
    const DecoderInput in = prepare(i, decoder, hook);
    decoder.forwardEmbeds(in.embeds, hook, in.modality, in.positions);
}

DecoderInput TokenCalibration::prepare(size_t i, const DecoderModel& decoder, ForwardHook*, bool) const
{
    DecoderInput in;
    in.ids = batchTensor(m_data, m_batches.at(i));
    in.embeds = decoder.embed(in.ids);
    return in;
}

} // namespace mq::core
