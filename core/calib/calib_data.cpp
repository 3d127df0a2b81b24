#include "calib/calib_data.h"

#include "eval/perplexity.h"

namespace mq::core {

TokenCalibration::TokenCalibration(const TokenDataset& data, int batchSize)
    : m_data(data), m_batchSize(std::max(1, batchSize)), m_batches(equalLengthBatches(data, m_batchSize))
{
}

void TokenCalibration::run(size_t i, const DecoderModel& decoder, ForwardHook* hook) const
{
    decoder.forward(batchTensor(m_data, m_batches.at(i)), hook);
}

} // namespace mq::core
