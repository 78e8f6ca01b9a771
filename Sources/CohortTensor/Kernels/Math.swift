#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Elementary functions from the platform C library, re-exported so that numeric code in every module calls the
/// same implementation (results must not depend on which overlay a file imported).
public enum Math {
    @inlinable public static func exp(_ x: Double) -> Double { _c_exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { _c_log(x) }
    @inlinable public static func log1p(_ x: Double) -> Double { _c_log1p(x) }
    @inlinable public static func expm1(_ x: Double) -> Double { _c_expm1(x) }
    @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { _c_pow(x, y) }
    @inlinable public static func sin(_ x: Double) -> Double { _c_sin(x) }
    @inlinable public static func cos(_ x: Double) -> Double { _c_cos(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { _c_tanh(x) }
    @inlinable public static func lgamma(_ x: Double) -> Double { _c_lgamma(x) }
    @inlinable public static func erfc(_ x: Double) -> Double { _c_erfc(x) }
    @inlinable public static func expf(_ x: Float) -> Float { _c_expf(x) }
    @inlinable public static func logf(_ x: Float) -> Float { _c_logf(x) }
    @inlinable public static func log1pf(_ x: Float) -> Float { _c_log1pf(x) }
}

@usableFromInline func _c_exp(_ x: Double) -> Double { exp(x) }
@usableFromInline func _c_log(_ x: Double) -> Double { log(x) }
@usableFromInline func _c_log1p(_ x: Double) -> Double { log1p(x) }
@usableFromInline func _c_expm1(_ x: Double) -> Double { expm1(x) }
@usableFromInline func _c_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@usableFromInline func _c_sin(_ x: Double) -> Double { sin(x) }
@usableFromInline func _c_cos(_ x: Double) -> Double { cos(x) }
@usableFromInline func _c_tanh(_ x: Double) -> Double { tanh(x) }
@usableFromInline func _c_lgamma(_ x: Double) -> Double { lgamma(x) }
@usableFromInline func _c_erfc(_ x: Double) -> Double { erfc(x) }
@usableFromInline func _c_expf(_ x: Float) -> Float { expf(x) }
@usableFromInline func _c_logf(_ x: Float) -> Float { logf(x) }
@usableFromInline func _c_log1pf(_ x: Float) -> Float { log1pf(x) }
