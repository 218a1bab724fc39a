//! Fault injection: what can go wrong between Daftar and Ottu, at chosen rates, drawn from a
//! seeded RNG so a run is reproducible. The invariant: 5xx, 429 and lost faults happen
//! *before* any effect (nothing is applied), drop and malformed faults happen *after* the
//! effect is committed (the operation is applied; only the answer is lost or garbled).

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Statuses a `5xx` fault answers with, picked by the same RNG.
pub const SERVER_ERROR_STATUSES: [u16; 4] = [500, 502, 503, 504];
/// Latency beyond this is surely a typo (and would stall tests for minutes).
pub const MAX_LATENCY_MS: u64 = 60_000;
/// A Retry-After beyond this would stall a well-behaved client for too long.
pub const MAX_RETRY_AFTER_S: u64 = 3_600;

/// Which endpoints faults apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultScope {
    /// Only `POST /b/pbl/v2/operation/`.
    #[default]
    Operation,
    /// Every Ottu endpoint (operation, inquiry, payment retrieval, reports); never `/_sandbox/`.
    All,
}

/// Fault rates and parameters. Rates are probabilities in [0, 1] whose sum is at most 1:
/// one uniform draw per request picks at most one of 5xx, 429, drop, malformed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Added before every in-scope request is handled.
    pub latency_ms: u64,
    pub rate_5xx: f64,
    pub rate_429: f64,
    /// The `Retry-After` header of injected 429s.
    pub retry_after_s: u64,
    /// Apply and commit the operation, then close the connection without any response.
    pub rate_drop: f64,
    /// Close the connection without any response and without doing anything.
    pub rate_lost: f64,
    /// Apply and commit the operation, then answer 200 with a body that is not valid JSON.
    pub rate_malformed: f64,
    pub scope: FaultScope,
    /// Seed of the fault RNG; `None` uses the sandbox's `--seed`. Setting faults reseeds.
    pub seed: Option<u64>,
}

impl Default for FaultConfig {
    fn default() -> FaultConfig {
        FaultConfig {
            latency_ms: 0,
            rate_5xx: 0.0,
            rate_429: 0.0,
            retry_after_s: 1,
            rate_drop: 0.0,
            rate_lost: 0.0,
            rate_malformed: 0.0,
            scope: FaultScope::Operation,
            seed: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum FaultSpecError {
    #[error(
        "fault '{item}' is not key=value (keys: latency, 5xx, 429, drop, lost, malformed, scope, seed)"
    )]
    NotKeyValue { item: String },
    #[error("unknown fault '{key}' (keys: latency, 5xx, 429, drop, lost, malformed, scope, seed)")]
    UnknownKey { key: String },
    #[error("fault {key}: '{value}' is not a number")]
    NotANumber { key: String, value: String },
    #[error("fault {key}: rate {rate} is outside [0, 1]")]
    RateOutOfRange { key: String, rate: f64 },
    #[error("fault rates add up to {sum}, more than 1")]
    RatesExceedOne { sum: f64 },
    #[error("fault latency {latency_ms} ms exceeds the limit of {MAX_LATENCY_MS} ms")]
    LatencyTooLong { latency_ms: u64 },
    #[error("fault 429 Retry-After {retry_after_s} s exceeds the limit of {MAX_RETRY_AFTER_S} s")]
    RetryAfterTooLong { retry_after_s: u64 },
    #[error("fault scope '{value}' is neither 'operation' nor 'all'")]
    UnknownScope { value: String },
}

impl FaultConfig {
    /// No faults at all.
    pub fn none() -> FaultConfig {
        FaultConfig::default()
    }

    /// Parses `latency=50ms,5xx=0.1,429=0.05:2,drop=0.2,lost=0.1,malformed=0.05,scope=all,seed=7`.
    /// Every key is optional; an empty spec or `none` means no faults.
    pub fn parse(spec: &str) -> Result<FaultConfig, FaultSpecError> {
        let mut config = FaultConfig::default();
        let spec = spec.trim();
        if spec.is_empty() || spec == "none" {
            return Ok(config);
        }
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError::NotKeyValue {
                    item: item.to_owned(),
                })?;
            let (key, value) = (key.trim(), value.trim());
            let number = |text: &str| -> Result<u64, FaultSpecError> {
                text.parse().map_err(|_| FaultSpecError::NotANumber {
                    key: key.to_owned(),
                    value: text.to_owned(),
                })
            };
            let rate = |text: &str| -> Result<f64, FaultSpecError> {
                text.parse().map_err(|_| FaultSpecError::NotANumber {
                    key: key.to_owned(),
                    value: text.to_owned(),
                })
            };
            match key {
                "latency" => {
                    let ms = value.strip_suffix("ms").unwrap_or(value);
                    config.latency_ms = number(ms)?;
                }
                "5xx" => config.rate_5xx = rate(value)?,
                "429" => match value.split_once(':') {
                    Some((r, after)) => {
                        config.rate_429 = rate(r)?;
                        config.retry_after_s = number(after.strip_suffix('s').unwrap_or(after))?;
                    }
                    None => config.rate_429 = rate(value)?,
                },
                "drop" => config.rate_drop = rate(value)?,
                "lost" => config.rate_lost = rate(value)?,
                "malformed" => config.rate_malformed = rate(value)?,
                "scope" => {
                    config.scope = match value {
                        "operation" => FaultScope::Operation,
                        "all" => FaultScope::All,
                        _ => {
                            return Err(FaultSpecError::UnknownScope {
                                value: value.to_owned(),
                            });
                        }
                    }
                }
                "seed" => config.seed = Some(number(value)?),
                _ => {
                    return Err(FaultSpecError::UnknownKey {
                        key: key.to_owned(),
                    });
                }
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the rates and limits (also for configs that arrive as JSON).
    pub fn validate(&self) -> Result<(), FaultSpecError> {
        let rates = [
            ("5xx", self.rate_5xx),
            ("429", self.rate_429),
            ("drop", self.rate_drop),
            ("lost", self.rate_lost),
            ("malformed", self.rate_malformed),
        ];
        for (key, rate) in rates {
            // `contains` is false for NaN too.
            if !(0.0..=1.0).contains(&rate) {
                return Err(FaultSpecError::RateOutOfRange {
                    key: key.to_owned(),
                    rate,
                });
            }
        }
        let sum: f64 = rates.iter().map(|(_, r)| r).sum();
        if sum > 1.0 + 1e-9 {
            return Err(FaultSpecError::RatesExceedOne { sum });
        }
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(FaultSpecError::LatencyTooLong {
                latency_ms: self.latency_ms,
            });
        }
        if self.retry_after_s > MAX_RETRY_AFTER_S {
            return Err(FaultSpecError::RetryAfterTooLong {
                retry_after_s: self.retry_after_s,
            });
        }
        Ok(())
    }

    /// True when no fault can ever fire.
    pub fn is_none(&self) -> bool {
        self.latency_ms == 0
            && self.rate_5xx == 0.0
            && self.rate_429 == 0.0
            && self.rate_drop == 0.0
            && self.rate_lost == 0.0
            && self.rate_malformed == 0.0
    }
}

impl fmt::Display for FaultConfig {
    /// The spec syntax, so `parse(config.to_string())` gives the config back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = match self.scope {
            FaultScope::Operation => "operation",
            FaultScope::All => "all",
        };
        write!(
            f,
            "latency={}ms,5xx={},429={}:{},drop={},lost={},malformed={},scope={scope}",
            self.latency_ms,
            self.rate_5xx,
            self.rate_429,
            self.retry_after_s,
            self.rate_drop,
            self.rate_lost,
            self.rate_malformed
        )?;
        if let Some(seed) = self.seed {
            write!(f, ",seed={seed}")?;
        }
        Ok(())
    }
}

/// What to do to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    None,
    /// Answer this 5xx at once, without touching anything.
    ServerError {
        status: u16,
    },
    /// Answer 429 with this Retry-After at once, without touching anything.
    Throttle {
        retry_after_s: u64,
    },
    /// Perform the request, commit, then close the connection with no response.
    DropAfterEffect,
    /// Close the connection with no response, performing nothing.
    LostBeforeEffect,
    /// Perform the request, commit, then answer 200 with invalid JSON.
    MalformedAfterEffect,
}

/// The draw for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultDraw {
    pub latency_ms: u64,
    pub action: FaultAction,
}

impl FaultDraw {
    pub const NONE: FaultDraw = FaultDraw {
        latency_ms: 0,
        action: FaultAction::None,
    };
}

/// The current fault config and its RNG.
#[derive(Debug)]
pub struct FaultInjector {
    config: FaultConfig,
    default_seed: u64,
    rng: ChaCha8Rng,
}

impl FaultInjector {
    pub fn new(config: FaultConfig, default_seed: u64) -> FaultInjector {
        let rng = ChaCha8Rng::seed_from_u64(config.seed.unwrap_or(default_seed));
        FaultInjector {
            config,
            default_seed,
            rng,
        }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Replaces the config and reseeds, so the same config replays the same faults.
    pub fn set(&mut self, config: FaultConfig) {
        *self = FaultInjector::new(config, self.default_seed);
    }

    /// Draws the fault for one request. Out-of-scope requests draw nothing, so they do not
    /// shift the sequence the in-scope ones see.
    pub fn draw(&mut self, is_operation_endpoint: bool) -> FaultDraw {
        let in_scope = is_operation_endpoint || self.config.scope == FaultScope::All;
        if !in_scope || self.config.is_none() {
            return FaultDraw::NONE;
        }
        let c = &self.config;
        let u: f64 = self.rng.random();
        let mut threshold = c.rate_5xx;
        let action = if u < threshold {
            let index = self.rng.random_range(0..SERVER_ERROR_STATUSES.len());
            FaultAction::ServerError {
                status: SERVER_ERROR_STATUSES[index],
            }
        } else if u < {
            threshold += c.rate_429;
            threshold
        } {
            FaultAction::Throttle {
                retry_after_s: c.retry_after_s,
            }
        } else if u < {
            threshold += c.rate_drop;
            threshold
        } {
            FaultAction::DropAfterEffect
        } else if u < {
            threshold += c.rate_lost;
            threshold
        } {
            FaultAction::LostBeforeEffect
        } else if u < {
            threshold += c.rate_malformed;
            threshold
        } {
            FaultAction::MalformedAfterEffect
        } else {
            FaultAction::None
        };
        FaultDraw {
            latency_ms: c.latency_ms,
            action,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_syntax() {
        let c =
            FaultConfig::parse("latency=50ms,5xx=0.1,429=0.05:2,drop=0.2,malformed=0.05").unwrap();
        assert_eq!(c.latency_ms, 50);
        assert_eq!(c.rate_5xx, 0.1);
        assert_eq!(c.rate_429, 0.05);
        assert_eq!(c.retry_after_s, 2);
        assert_eq!(c.rate_drop, 0.2);
        assert_eq!(c.rate_malformed, 0.05);
        assert_eq!(c.scope, FaultScope::Operation);
        let c = FaultConfig::parse("429=1,scope=all,seed=9,latency=5").unwrap();
        assert_eq!((c.rate_429, c.retry_after_s, c.latency_ms), (1.0, 1, 5));
        assert_eq!((c.scope, c.seed), (FaultScope::All, Some(9)));
        assert_eq!(FaultConfig::parse("none").unwrap(), FaultConfig::none());
        assert_eq!(FaultConfig::parse("").unwrap(), FaultConfig::none());
    }

    #[test]
    fn display_round_trips() {
        let c = FaultConfig::parse("latency=7ms,5xx=0.25,429=0.125:3,drop=0.25,lost=0.25,seed=4")
            .unwrap();
        assert_eq!(FaultConfig::parse(&c.to_string()).unwrap(), c);
    }

    #[test]
    fn refuses_bad_specs() {
        assert!(matches!(
            FaultConfig::parse("drop=1.5"),
            Err(FaultSpecError::RateOutOfRange { .. })
        ));
        assert!(matches!(
            FaultConfig::parse("drop=0.6,5xx=0.6"),
            Err(FaultSpecError::RatesExceedOne { .. })
        ));
        assert!(matches!(
            FaultConfig::parse("explode=1"),
            Err(FaultSpecError::UnknownKey { .. })
        ));
        assert!(matches!(
            FaultConfig::parse("drop"),
            Err(FaultSpecError::NotKeyValue { .. })
        ));
        assert!(matches!(
            FaultConfig::parse("drop=NaN"),
            Err(FaultSpecError::RateOutOfRange { .. })
        ));
        assert!(matches!(
            FaultConfig::parse("latency=fast"),
            Err(FaultSpecError::NotANumber { .. })
        ));
    }

    #[test]
    fn draws_are_reproducible_and_follow_the_rates() {
        let config = FaultConfig::parse("5xx=0.1,429=0.1,drop=0.2,malformed=0.1").unwrap();
        let run = || {
            let mut inj = FaultInjector::new(config.clone(), 42);
            (0..10_000)
                .map(|_| inj.draw(true).action)
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let count = |pred: fn(&FaultAction) -> bool| a.iter().filter(|x| pred(x)).count();
        let drops = count(|x| *x == FaultAction::DropAfterEffect);
        let errors = count(|x| matches!(x, FaultAction::ServerError { .. }));
        let none = count(|x| *x == FaultAction::None);
        assert!((1_700..2_300).contains(&drops), "{drops}");
        assert!((800..1_200).contains(&errors), "{errors}");
        assert!((4_600..5_400).contains(&none), "{none}");
    }

    #[test]
    fn out_of_scope_requests_draw_nothing() {
        let mut inj = FaultInjector::new(FaultConfig::parse("drop=1").unwrap(), 1);
        assert_eq!(inj.draw(false), FaultDraw::NONE);
        assert_eq!(inj.draw(true).action, FaultAction::DropAfterEffect);
        inj.set(FaultConfig::parse("drop=1,scope=all").unwrap());
        assert_eq!(inj.draw(false).action, FaultAction::DropAfterEffect);
    }
}
