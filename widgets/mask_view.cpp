#include "mask_view.h"

#include "plot_export.h"
#include "session.h"

#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace mq::ui {

MaskView::MaskView(QWidget* parent) : QWidget(parent)
{
    m_plot = new QCustomPlot(this);
    m_plot->xAxis->setLabel(tr("input channel"));
    m_plot->yAxis->setLabel(tr("D_c"));
    m_plot->legend->setVisible(true);
    m_plot->legend->setFont(QFont(font().family(), 8));
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_kept = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_kept->setName(tr("kept (4-bit)"));
    m_kept->setPen(Qt::NoPen);
    m_kept->setBrush(QColor(120, 144, 176));
    m_masked = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_masked->setName(tr("masked (DABC)"));
    m_masked->setPen(Qt::NoPen);
    m_masked->setBrush(QColor(214, 39, 40));
    m_handMarks = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
    m_handMarks->setName(tr("edited by hand"));
    m_handMarks->setLineStyle(QCPGraph::lsNone);
    m_handMarks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangleInverted, QColor(20, 20, 20),
                                                 QColor(255, 200, 0), 8));
    m_kept->setWidth(0.8);
    m_masked->setWidth(0.8);

    auto makeLine = [this](const QColor& color, Qt::PenStyle style, QCPItemText** label) {
        auto* line = new QCPItemStraightLine(m_plot);
        line->setPen(QPen(color, 1.4, style));
        *label = new QCPItemText(m_plot);
        (*label)->setColor(color);
        (*label)->setFont(QFont(font().family(), 8));
        (*label)->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        (*label)->setBrush(QColor(255, 255, 255, 225)); // legible over the bars
        (*label)->setPadding(QMargins(3, 1, 3, 1));
        (*label)->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
        return line;
    };
    m_tauLocal = makeLine(QColor(44, 120, 44), Qt::DashLine, &m_tauLocalLabel);
    m_tauGlobal = makeLine(QColor(128, 0, 128), Qt::DotLine, &m_tauGlobalLabel);
    m_channelLine = new QCPItemStraightLine(m_plot);
    m_channelLine->setPen(QPen(QColor(0, 170, 200), 1.5, Qt::SolidLine));
    m_channelLine->setVisible(false);
    placeLegendBelow(m_plot);
    m_title = addPlotTitle(m_plot);
    installExportMenu(m_plot, QStringLiteral("mask"));
    m_plot->setToolTip(tr("Click a channel to mask or unmask it by hand (Edit > Undo reverts)"));
    connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) { m_pressPos = e->pos(); });
    connect(m_plot, &QCustomPlot::mouseRelease, this, &MaskView::onMouseRelease);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_plot);
    rebuild();
}

void MaskView::setSession(const core::Session* session)
{
    m_session = session;
    rebuild();
}

void MaskView::setChannel(int channel)
{
    m_channel = channel;
    rebuild();
}

void MaskView::setGroup(const QString& group)
{
    m_group = group;
    rebuild();
}

int MaskView::channelAt(const QPoint& pos) const
{
    if (!m_session || !m_plot->axisRect()->rect().contains(pos))
        return -1;
    auto it = m_session->plans.find(m_group.toStdString());
    if (it == m_session->plans.end())
        return -1;
    const double x = m_plot->xAxis->pixelToCoord(pos.x());
    const int c = int(std::lround(x));
    if (c < 0 || c >= int(it->second.scores.size()) || std::abs(x - c) > 0.5)
        return -1;
    return c;
}

void MaskView::onMouseRelease(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton || (event->pos() - m_pressPos).manhattanLength() > 3)
        return; // a drag pans the plot
    const int c = channelAt(event->pos());
    if (c >= 0)
        emit channelClicked(m_group, c);
}

void MaskView::rebuild()
{
    QVector<double> keptKeys, keptValues, maskedKeys, maskedValues, handKeys, handValues;
    const core::GroupPlan* plan = nullptr;
    if (m_session)
        if (auto it = m_session->plans.find(m_group.toStdString()); it != m_session->plans.end())
            plan = &it->second;
    double top = 0;
    if (plan) {
        for (size_t c = 0; c < plan->scores.size(); ++c) {
            const bool masked = c < plan->mask.size() && plan->mask[c];
            (masked ? maskedKeys : keptKeys) << double(c);
            (masked ? maskedValues : keptValues) << plan->scores[c];
            top = std::max(top, plan->scores[c]);
            if (c < plan->handEdited.size() && plan->handEdited[c]) {
                handKeys << double(c);
                handValues << plan->scores[c];
            }
        }
    }
    m_handMarks->setData(handKeys, handValues, true);
    m_handMarks->setVisible(!handKeys.isEmpty());
    if (m_handMarks->visible())
        m_handMarks->addToLegend();
    else
        m_handMarks->removeFromLegend();
    m_kept->setData(keptKeys, keptValues, true);
    m_masked->setData(maskedKeys, maskedValues, true);

    const bool lines = plan != nullptr;
    // The lower threshold's label goes under its line so two close thresholds stay legible.
    const double lower = plan ? std::min(plan->tauLocal, plan->tauGlobal) : 0;
    auto place = [&](QCPItemStraightLine* line, QCPItemText* label, double tau, const QString& text) {
        label->setPositionAlignment(Qt::AlignRight | (plan && tau == lower && plan->tauLocal != plan->tauGlobal
                                                          ? Qt::AlignTop : Qt::AlignBottom));
        line->setVisible(lines);
        label->setVisible(lines);
        line->point1->setCoords(0, tau);
        line->point2->setCoords(1, tau);
        label->position->setCoords(0.99, tau);
        label->setText(text.arg(tau, 0, 'g', 4));
    };
    place(m_tauLocal, m_tauLocalLabel, plan ? plan->tauLocal : 0, tr("\u03c4 local = %1"));
    place(m_tauGlobal, m_tauGlobalLabel, plan ? plan->tauGlobal : 0, tr("\u03c4 global = %1"));
    const bool marked = plan && m_channel >= 0 && size_t(m_channel) < plan->scores.size();
    m_channelLine->setVisible(marked);
    if (marked) {
        m_channelLine->point1->setCoords(m_channel, 0);
        m_channelLine->point2->setCoords(m_channel, 1);
    }
    if (plan) {
        top = std::max({top, plan->tauLocal, plan->tauGlobal});
        m_plot->xAxis->setRange(-1, double(plan->scores.size()));
        m_plot->yAxis->setRange(0, top * 1.12 + 1e-12); // headroom for the threshold labels
    }
    if (plan) {
        int masked = 0;
        for (uint8_t b : plan->mask)
            masked += b;
        m_title->setText(tr("DABC mask of %1: %2 of %3 channels compensated")
                             .arg(m_group)
                             .arg(masked)
                             .arg(plan->mask.size()));
    } else {
        m_title->setText(m_group.isEmpty() ? tr("DABC mask: no input group selected")
                                           : tr("DABC mask of %1: no plan yet (quantize first)").arg(m_group));
    }
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

} // namespace mq::ui
