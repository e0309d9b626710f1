/// A plot, rendered as one self-contained SVG document (no scripts, no external fonts or files).
///
/// Build one with a static builder (``line(title:x:y:series:bands:references:width:height:)``,
/// ``scatter(title:x:y:series:references:width:height:)``, …) and call ``render()``:
///
/// ```swift
/// let plot = SVGPlot.line(title: "Knee angle", x: PlotAxis("time", unit: "s"),
///                         y: PlotAxis("angle", unit: "rad"),
///                         series: [PlotSeries("real", x: t, y: real),
///                                  PlotSeries("sim", x: t, y: sim, dashed: true)])
/// let svg = plot.render()
/// ```
///
/// Axes get "nice" ticks (1, 2, 5 × 10ᵏ, or decades on log axes) and ranges fitted to the data
/// with padding. Values that cannot be drawn (NaN, ±∞, ≤ 0 on a log axis) are skipped; a plot
/// with nothing to draw shows a "no data" placeholder. Series longer than about four points per
/// pixel column are decimated (lowest and highest point per column), so a 100 000-sample log
/// stays a small file and keeps every spike. The same input always gives the same bytes.
///
/// Text, axes and grid use `currentColor`: inside an HTML page the plot takes the page's text
/// colour (so it follows dark mode), on its own it is black on transparent.
public struct SVGPlot: Sendable {
    /// The kind of plot.
    public enum Kind: String, Sendable {
        /// Curves, optionally with bands and markers.
        case line
        /// Markers only.
        case scatter
        /// Filled bands with optional curves.
        case band
        /// Markers around a zero line.
        case residual
        /// A forest plot of estimates with intervals.
        case interval
        /// Grouped bars with error bars.
        case bar
        /// Binned counts or densities.
        case histogram
        /// A matrix of coloured cells.
        case heatmap
    }

    /// What kind of plot this is.
    public let kind: Kind
    /// The title, drawn top left; empty for none.
    public var title: String
    /// Width in pixels (the SVG's intrinsic size; pages may scale it down).
    public var width: Int
    /// Height in pixels. Interval plots and heatmaps choose one from their row count.
    public var height: Int

    let content: Content

    enum Content: Sendable {
        case cartesian(Cartesian)
        case intervals(Intervals)
        case bars(Bars)
        case histogram(Histogram)
        case heatmap(Heatmap)
    }

    struct Cartesian: Sendable {
        var x: PlotAxis
        var y: PlotAxis
        var series: [PlotSeries]
        var bands: [PlotBand]
        var references: [PlotReference]
        /// False for scatter and residual plots: markers only.
        var lines: Bool
    }

    struct Intervals: Sendable {
        var axis: PlotAxis
        var estimates: [IntervalEstimate]
        var referenceLine: Double?
        var showValues: Bool
    }

    struct Bars: Sendable {
        var categories: [String]
        var groups: [BarGroup]
        var y: PlotAxis
    }

    struct Histogram: Sendable {
        var x: PlotAxis
        var data: [HistogramData]
        var bins: Int?
        var density: Bool
    }

    struct Heatmap: Sendable {
        var rows: [String]
        var columns: [String]
        var values: [[Double]]
        var range: ClosedRange<Double>
        var cellLabels: Bool
        var decimals: Int
    }

    init(kind: Kind, title: String, width: Int, height: Int, content: Content) {
        self.kind = kind
        self.title = title
        self.width = max(120, width)
        self.height = max(80, height)
        self.content = content
    }

    // MARK: Builders

    /// Lines (time series, frequency responses, Allan deviation on two log axes), optionally with
    /// filled bands behind them and reference lines.
    ///
    /// - Parameters:
    ///   - series: the curves; each may be dashed and/or marked.
    ///   - bands: filled regions drawn under the curves (confidence bands, ± σ).
    ///   - references: horizontal or vertical lines (thresholds, zero, nominal values).
    public static func line(title: String = "", x: PlotAxis, y: PlotAxis, series: [PlotSeries],
                            bands: [PlotBand] = [], references: [PlotReference] = [],
                            width: Int = 640, height: Int = 360) -> SVGPlot {
        SVGPlot(kind: .line, title: title, width: width, height: height,
                content: .cartesian(Cartesian(x: x, y: y, series: series, bands: bands,
                                              references: references, lines: true)))
    }

    /// Points only; each series gets its own colour and marker shape. Large clouds are thinned to
    /// one point per 1.5-pixel square.
    public static func scatter(title: String = "", x: PlotAxis, y: PlotAxis, series: [PlotSeries],
                               references: [PlotReference] = [], width: Int = 640, height: Int = 360) -> SVGPlot {
        SVGPlot(kind: .scatter, title: title, width: width, height: height,
                content: .cartesian(Cartesian(x: x, y: y, series: series, bands: [],
                                              references: references, lines: false)))
    }

    /// Filled bands between two curves (measured ± σ, the spread of randomized rollouts), with
    /// optional curves on top (the mean, the real run).
    public static func band(title: String = "", x: PlotAxis, y: PlotAxis, bands: [PlotBand],
                            series: [PlotSeries] = [], references: [PlotReference] = [],
                            width: Int = 640, height: Int = 360) -> SVGPlot {
        SVGPlot(kind: .band, title: title, width: width, height: height,
                content: .cartesian(Cartesian(x: x, y: y, series: series, bands: bands,
                                              references: references, lines: true)))
    }

    /// Residuals (measured − predicted) as points around a zero line, plus any other references
    /// (± tolerance).
    public static func residual(title: String = "", x: PlotAxis, y: PlotAxis, series: [PlotSeries],
                                references: [PlotReference] = [], width: Int = 640, height: Int = 300) -> SVGPlot {
        SVGPlot(kind: .residual, title: title, width: width, height: height,
                content: .cartesian(Cartesian(x: x, y: y, series: series, bands: [],
                                              references: [.horizontal(0)] + references, lines: false)))
    }

    /// A forest plot: one row per estimate with its interval, the nominal value (hollow diamond)
    /// and, where known, the reference or true value (cross), all on one horizontal axis.
    ///
    /// - Parameters:
    ///   - axis: the common axis (for parameters of different scales, plot the ratio to nominal
    ///     and set `referenceLine: 1`).
    ///   - referenceLine: a vertical dashed line across all rows (1 for ratios, 0 for offsets).
    ///   - showValues: write "estimate [lower, upper]" at the right of each row.
    ///   - height: nil chooses about 26 pixels per row.
    public static func interval(title: String = "", axis: PlotAxis, estimates: [IntervalEstimate],
                                referenceLine: Double? = nil, showValues: Bool = true,
                                width: Int = 640, height: Int? = nil) -> SVGPlot {
        let auto = Int(titleHeight(title)) + 30 + 26 * max(1, estimates.count) + (axis.title.isEmpty ? 34 : 50)
        return SVGPlot(kind: .interval, title: title, width: width, height: height ?? auto,
                       content: .intervals(Intervals(axis: axis, estimates: estimates,
                                                     referenceLine: referenceLine, showValues: showValues)))
    }

    /// Grouped bars: one cluster per category (a metric), one bar per group (sim, real), with
    /// optional ± error bars. The value axis is always linear and includes zero.
    public static func bar(title: String = "", categories: [String], groups: [BarGroup], y: PlotAxis,
                           width: Int = 640, height: Int = 360) -> SVGPlot {
        SVGPlot(kind: .bar, title: title, width: width, height: height,
                content: .bars(Bars(categories: categories, groups: groups, y: y)))
    }

    /// A histogram of one or more sets of samples over shared bins, drawn as translucent steps.
    ///
    /// - Parameters:
    ///   - x: the sample axis (linear; a fixed range drops samples outside it).
    ///   - bins: the number of bins; nil chooses one from the data (Freedman–Diaconis, 5...60).
    ///   - density: scale each set to unit area, to compare sets of different sizes (1000
    ///     simulated trials against 20 real ones).
    public static func histogram(title: String = "", x: PlotAxis, data: [HistogramData], bins: Int? = nil,
                                 density: Bool = false, width: Int = 640, height: Int = 320) -> SVGPlot {
        SVGPlot(kind: .histogram, title: title, width: width, height: height,
                content: .histogram(Histogram(x: x, data: data, bins: bins, density: density)))
    }

    /// A matrix of coloured cells on a blue–white–red diverging scale with a colour bar: a
    /// correlation matrix (the default range −1...1), sensitivities, signed errors.
    ///
    /// - Parameters:
    ///   - values: `values[row][column]`; missing or NaN cells are grey.
    ///   - cellLabels: write each value in its cell (when cells are large enough).
    ///   - decimals: decimals of the cell labels.
    ///   - height: nil chooses square cells.
    public static func heatmap(title: String = "", rows: [String], columns: [String], values: [[Double]],
                               range: ClosedRange<Double> = -1...1, cellLabels: Bool = true, decimals: Int = 2,
                               width: Int = 560, height: Int? = nil) -> SVGPlot {
        let longestColumn = columns.map { textWidth($0, size: 10.5) }.max() ?? 0
        let left = 12 + min(Double(width) * 0.3, (rows.map { textWidth($0) }.max() ?? 0)) + 8
        let cell = min(56, max(14, (Double(width) - left - 70) / Double(max(1, columns.count))))
        let bottom = columnLabelsRotated(columns, cell: cell) ? min(140, longestColumn * 0.82 + 16) : 28
        let auto = Int(titleHeight(title) + 8 + cell * Double(max(1, rows.count)) + bottom)
        return SVGPlot(kind: .heatmap, title: title, width: width, height: height ?? auto,
                       content: .heatmap(Heatmap(rows: rows, columns: columns, values: values, range: range,
                                                 cellLabels: cellLabels, decimals: decimals)))
    }

    // MARK: Rendering

    /// The SVG document: `<svg xmlns="http://www.w3.org/2000/svg" …>…</svg>`, well-formed XML,
    /// ready to write to a `.svg` file or to place inline in HTML.
    public func render() -> String {
        switch content {
        case let .cartesian(c): return renderCartesian(c)
        case let .intervals(c): return renderIntervals(c)
        case let .bars(c): return renderBars(c)
        case let .histogram(c): return renderHistogram(c)
        case let .heatmap(c): return renderHeatmap(c)
        }
    }
}

/// Whether heatmap column labels need rotating to fit under cells `cell` pixels wide.
func columnLabelsRotated(_ columns: [String], cell: Double) -> Bool {
    (columns.map { textWidth($0, size: 10.5) }.max() ?? 0) > cell - 4
}
