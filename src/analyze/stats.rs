//! Chi-square goodness of fit for split drift: the upper-tail probability
//! through the regularised incomplete gamma function (Numerical Recipes'
//! series and continued fraction).

fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9).
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let gln = ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut del, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..500 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (1.0 - sum * (-x + a * x.ln() - gln).exp()).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..500 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-15 {
                break;
            }
        }
        ((-x + a * x.ln() - gln).exp() * h).clamp(0.0, 1.0)
    }
}

/// Pearson's chi-square statistic and its p-value for observed counts
/// against expected shares (shares > 0, summing to 1).
pub fn chi_square(observed: &[f64], shares: &[f64]) -> (f64, f64) {
    let n: f64 = observed.iter().sum();
    let stat: f64 = observed
        .iter()
        .zip(shares)
        .map(|(o, p)| {
            let e = n * p;
            (o - e) * (o - e) / e
        })
        .sum();
    let dof = observed.len().saturating_sub(1).max(1) as f64;
    (stat, gamma_q(dof / 2.0, stat / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_quantiles() {
        // chi2(1) 0.999 quantile = 10.828; chi2(2) 0.95 quantile = 5.991.
        let p = gamma_q(0.5, 10.828 / 2.0);
        assert!((p - 0.001).abs() < 1e-4, "{p}");
        let p = gamma_q(1.0, 5.991 / 2.0);
        assert!((p - 0.05).abs() < 1e-3, "{p}");
        let (_, p) = chi_square(&[50.0, 50.0], &[0.5, 0.5]);
        assert!((p - 1.0).abs() < 1e-9);
    }
}
