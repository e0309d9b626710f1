/// One named series of (x, y) points: a line, a set of markers, or both.
///
/// NaN and ±∞ values are skipped (a line breaks across them); on a log axis so are values ≤ 0.
/// Only the first `min(x.count, y.count)` points are used.
public struct PlotSeries: Sendable {
    /// The legend entry.
    public var label: String
    /// Horizontal coordinates.
    public var x: [Double]
    /// Vertical coordinates.
    public var y: [Double]
    /// The colour; nil takes the next colour of ``PlotColor/palette``.
    public var color: PlotColor?
    /// Draw the line dashed (a model prediction, a nominal trajectory).
    public var dashed: Bool
    /// Mark each point (always true in scatter and residual plots).
    public var markers: Bool

    /// Creates a series.
    public init(_ label: String, x: [Double], y: [Double], color: PlotColor? = nil,
                dashed: Bool = false, markers: Bool = false) {
        self.label = label
        self.x = x
        self.y = y
        self.color = color
        self.dashed = dashed
        self.markers = markers
    }

    /// Creates a series against the sample index 0, 1, 2, ….
    public init(_ label: String, y: [Double], color: PlotColor? = nil, dashed: Bool = false,
                markers: Bool = false) {
        self.init(label, x: y.indices.map(Double.init), y: y, color: color, dashed: dashed, markers: markers)
    }
}

/// A filled region between a lower and an upper curve over the same x: a confidence band,
/// measured ± σ, the spread of randomized rollouts.
public struct PlotBand: Sendable {
    /// The legend entry.
    public var label: String
    /// Horizontal coordinates, in order.
    public var x: [Double]
    /// The lower curve.
    public var lower: [Double]
    /// The upper curve.
    public var upper: [Double]
    /// The colour (drawn translucent); nil takes the next colour of ``PlotColor/palette``.
    public var color: PlotColor?

    /// Creates a band from its two curves.
    public init(_ label: String, x: [Double], lower: [Double], upper: [Double], color: PlotColor? = nil) {
        self.label = label
        self.x = x
        self.lower = lower
        self.upper = upper
        self.color = color
    }

    /// Creates the band `center ± spread` (for example mean ± 2σ).
    public init(_ label: String, x: [Double], center: [Double], spread: [Double], color: PlotColor? = nil) {
        let n = min(center.count, spread.count)
        self.init(label, x: x,
                  lower: (0..<n).map { center[$0] - abs(spread[$0]) },
                  upper: (0..<n).map { center[$0] + abs(spread[$0]) },
                  color: color)
    }
}

/// A straight reference line across a plot: zero, a threshold, a nominal value.
public struct PlotReference: Sendable {
    /// Which way the line runs.
    public enum Orientation: Sendable {
        /// A constant y.
        case horizontal
        /// A constant x.
        case vertical
    }

    /// Where the line is, in data units of the axis it crosses.
    public var value: Double
    /// Text written at the end of the line; nil for none.
    public var label: String?
    /// Horizontal (constant y) or vertical (constant x).
    public var orientation: Orientation

    /// Creates a reference line.
    public init(value: Double, label: String? = nil, orientation: Orientation) {
        self.value = value
        self.label = label
        self.orientation = orientation
    }

    /// A horizontal line at y = `value`.
    public static func horizontal(_ value: Double, label: String? = nil) -> PlotReference {
        PlotReference(value: value, label: label, orientation: .horizontal)
    }

    /// A vertical line at x = `value`.
    public static func vertical(_ value: Double, label: String? = nil) -> PlotReference {
        PlotReference(value: value, label: label, orientation: .vertical)
    }
}

/// One row of an interval (forest) plot: an estimate with its interval, and the values to
/// compare it against.
public struct IntervalEstimate: Sendable {
    /// The row label (a parameter name).
    public var label: String
    /// The point estimate.
    public var estimate: Double
    /// The lower end of the interval (for example the 2.5 % bound of a 95 % interval).
    public var lower: Double
    /// The upper end of the interval.
    public var upper: Double
    /// The nominal (model) value, drawn as a hollow diamond; nil for none.
    public var nominal: Double?
    /// A reference or ground-truth value (the virtual robot's hidden truth), drawn as a cross;
    /// nil for none.
    public var reference: Double?

    /// Creates a row.
    public init(_ label: String, estimate: Double, lower: Double, upper: Double,
                nominal: Double? = nil, reference: Double? = nil) {
        self.label = label
        self.estimate = estimate
        self.lower = lower
        self.upper = upper
        self.nominal = nominal
        self.reference = reference
    }
}

/// One group of a bar chart: a value per category (sim, or real), optionally with error bars.
public struct BarGroup: Sendable {
    /// The legend entry.
    public var label: String
    /// One value per category, in the chart's category order; NaN for a missing one.
    public var values: [Double]
    /// Half-widths of the error bars (± error), one per category; nil for none.
    public var errors: [Double]?
    /// The colour; nil takes the next colour of ``PlotColor/palette``.
    public var color: PlotColor?

    /// Creates a group.
    public init(_ label: String, values: [Double], errors: [Double]? = nil, color: PlotColor? = nil) {
        self.label = label
        self.values = values
        self.errors = errors
        self.color = color
    }
}

/// One set of samples for a histogram; several sets share the same bins.
public struct HistogramData: Sendable {
    /// The legend entry.
    public var label: String
    /// The samples; NaN and ±∞ are skipped.
    public var values: [Double]
    /// The colour; nil takes the next colour of ``PlotColor/palette``.
    public var color: PlotColor?

    /// Creates a set of samples.
    public init(_ label: String, values: [Double], color: PlotColor? = nil) {
        self.label = label
        self.values = values
        self.color = color
    }
}
