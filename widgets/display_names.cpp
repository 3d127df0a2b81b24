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

} // namespace mq::ui
