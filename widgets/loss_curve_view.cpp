#include "loss_curve_view.h"

#include "plot_export.h"
#include "session.h"

#include <QVBoxLayout>
#include <qcustomplot.h>

namespace mq::ui {

LossCurveView::LossCurveView(QWidget* parent) : QWidget(parent)
{
    m_plot = new QCustomPlot(this);
    m_plot->xAxis->setLabel(tr("step"));
    m_plot->yAxis->setLabel(tr("loss"));
    m_plot->legend->setVisible(true);
    m_plot->legend->setFont(QFont(font().family(), 8));
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    auto addGraph = [this](const QString& name, const QColor& color, Qt::PenStyle style) {
        QCPGraph* g = m_plot->addGraph();
        g->setName(name);
        g->setPen(QPen(color, 1.6, style));
        return g;
    };
    m_lp = addGraph(tr("L_p"), QColor(31, 119, 180), Qt::SolidLine);
    m_cos = addGraph(tr("L_cos"), QColor(255, 127, 14), Qt::SolidLine);
    m_total = addGraph(tr("total"), Qt::black, Qt::DashLine);
    // Caption row above the axes, shown while a run draws here.
    m_plot->plotLayout()->insertRow(0);
    m_title = new QCPTextElement(m_plot, QString(), QFont(font().family(), 9, QFont::Bold));
    m_plot->plotLayout()->addElement(0, 0, m_title);
    m_title->setVisible(false);
    placeLegendBelow(m_plot);
    installExportMenu(m_plot, QStringLiteral("loss_curve"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_plot);
}

void LossCurveView::setSession(const core::Session* session)
{
    m_session = session;
    rebuild();
}

void LossCurveView::setGroup(const QString& group)
{
    m_group = group;
    rebuild();
}

void LossCurveView::showLive(const core::LossCurve& curve, const QString& caption)
{
    m_live = true;
    m_title->setText(caption);
    m_title->setVisible(true);
    setPoints(&curve);
}

void LossCurveView::clearLive()
{
    if (!m_live)
        return;
    m_live = false;
    m_title->setText(QString());
    m_title->setVisible(false);
    rebuild();
}

QString LossCurveView::caption() const { return m_title->text(); }

void LossCurveView::setOutOfDate(bool outOfDate)
{
    if (outOfDate == m_outOfDate)
        return;
    m_outOfDate = outOfDate;
    rebuild();
}

void LossCurveView::rebuild()
{
    if (m_live) // a run draws here until it ends
        return;
    const core::LossCurve* curve = nullptr;
    int masked = 0, channels = 0;
    if (m_session) {
        const std::string g = m_group.toStdString();
        for (const core::LossCurve& c : m_session->curves)
            if (c.group == g) {
                curve = &c;
                break;
            }
        if (auto it = m_session->plans.find(g); it != m_session->plans.end()) {
            channels = int(it->second.mask.size());
            for (uint8_t b : it->second.mask)
                masked += b;
        }
    }
    // The title names the group; a group DABC compensates entirely says why its curve is flat.
    if (m_group.isEmpty()) {
        m_title->setVisible(false);
    } else {
        m_title->setText(channels > 0 && masked == channels
                             ? tr("%1: all %2 channels compensated (16-bit), nothing for MDQFO to clip")
                                   .arg(m_group)
                                   .arg(channels)
                             : curve ? tr("MDQFO loss of %1").arg(m_group)
                                     : tr("%1: no MDQFO curve (quantize with MDQFO on)").arg(m_group));
        if (curve && m_outOfDate)
            m_title->setText(m_title->text() + QLatin1Char('\n') + tr("Out of date: an earlier plan's (Study \u2192 Quantize)"));
        m_title->setVisible(true);
    }
    // Faded while out of date.
    const int alpha = curve && m_outOfDate ? 90 : 255;
    for (QCPGraph* g : {m_lp, m_cos, m_total}) {
        QPen pen = g->pen();
        QColor c = pen.color();
        c.setAlpha(alpha);
        pen.setColor(c);
        g->setPen(pen);
    }
    setPoints(curve);
}

void LossCurveView::setPoints(const core::LossCurve* curve)
{
    QVector<double> steps, lp, cos, total;
    if (curve)
        for (const core::LossPoint& p : curve->points) {
            steps << p.step;
            lp << p.lp;
            cos << p.lcos;
            total << p.total;
        }
    m_lp->setData(steps, lp, true);
    m_cos->setData(steps, cos, true);
    m_total->setData(steps, total, true);
    m_plot->rescaleAxes();
    if (!steps.isEmpty()) {
        QCPRange y = m_plot->yAxis->range();
        if (y.upper <= 0.0 && y.lower >= 0.0) // every loss 0 (e.g. all channels compensated)
            m_plot->yAxis->setRange(0.0, 1.0);
        else
            m_plot->yAxis->setRange(std::min(0.0, y.lower), y.upper + 0.05 * y.size() + 1e-12);
    }
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

} // namespace mq::ui
