#include "display_names.h"

#include <QCoreApplication>

namespace mq::ui {

QString modalityLabel(int modality)
{
    switch (modality) {
    case -1: return QCoreApplication::translate("mq::ui::Modality", "pooled");
    case 0: return QCoreApplication::translate("mq::ui::Modality", "text");
    case 1: return QCoreApplication::translate("mq::ui::Modality", "image");
    case 2: return QCoreApplication::translate("mq::ui::Modality", "video");
    case 3: return QCoreApplication::translate("mq::ui::Modality", "audio");
    default: return {};
    }
}

QString evalLabel(const std::string& label)
{
    if (label == "full precision")
        return QCoreApplication::translate("mq::ui::Modality", "full precision");
    return QString::fromStdString(label);
}

QString costLine(const core::QuantCost& c)
{
    const QString mode = c.mode == "deployable" ? QCoreApplication::translate("mq::ui::Cost", "deployable") : QCoreApplication::translate("mq::ui::Cost", "simulated");
    return QCoreApplication::translate("mq::ui::Cost", "Cost: activations %1 bits per element%2 (%3 per multiply-add); DABC %4 of %5 channels, "
                       "+%6% multiply-adds; weights %7 bits; %8")
        .arg(c.actBitsEffective, 0, 'f', 2)
        .arg(c.actUpperBound ? QCoreApplication::translate("mq::ui::Cost", " at most") : QString())
        .arg(c.actBitsEffectiveMac, 0, 'f', 2)
        .arg(c.compensatedChannels)
        .arg(c.channels)
        .arg(100.0 * c.dabcExtraMacs, 0, 'f', 1)
        .arg(c.weightBitsEffective, 0, 'f', 2)
        .arg(mode)
        + (c.encodersQuantized ? QCoreApplication::translate("mq::ui::Cost", " (the decoder's; the encoders are quantized too)")
                               : QString());
}

QString moduleShortName(const std::string& name, int layer)
{
    const QString full = QString::fromStdString(name);
    const QString prefix = QStringLiteral("layers.%1.").arg(layer);
    const int at = layer >= 0 ? full.indexOf(prefix) : -1;
    return at >= 0 ? full.mid(at + prefix.size()) : full;
}

} // namespace mq::ui
