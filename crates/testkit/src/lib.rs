#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod conformance;
mod expected;
mod harness;
pub mod logs;
pub mod memory;
mod multi;
mod report;
#[cfg(feature = "sandbox")]
pub mod sandbox;
mod suite;

pub use conformance::Conformance;
pub use expected::{
    CHECK_FAULT_CHECKS, DOCUMENTED_ERROR_CHECKS, Expected, HOSTILE_CHECK_CHECKS,
    HOSTILE_POLL_CHECKS, HOSTILE_SEND_CHECKS, HOSTILE_SESSION_CHECKS, OTP_CHECKS, PRIVACY_CHECKS,
    REVERSE_CHECKS, REVERSE_FAULT_CHECKS, REVERSE_RETRY_CHECKS, SEND_CHECKS, SESSION_FAULT_CHECKS,
    SESSION_RETRY_CHECKS, WRONG_CODE_LIMIT_CHECKS,
};
pub use harness::{
    AnswerTo, Answering, CheckFault, DocumentedError, ExpectedResult, Harness, HarnessError,
    HarnessResult, HostileAnswer, ImpatientClient, LookupFault, RequestCounts, RequestTarget,
    SendFault, different_code,
};
pub use multi::MultiHarness;
pub use report::{CheckResult, Report, Status};
pub use suite::{DEFAULT_CHECK_TIMEOUT, run, run_with_timeout, unsupported_channel};

/// Re-exported so harness authors use the same version.
pub use async_trait::async_trait;
