//! [`NumberType`]: the type of a number in its numbering plan.

/// The type of a number in its country's numbering plan, from libphonenumber's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum NumberType {
    /// A fixed line.
    FixedLine,
    /// A mobile number.
    Mobile,
    /// A fixed line or a mobile number: the country's numbering plan cannot tell them apart
    /// (the United States, Canada).
    FixedLineOrMobile,
    /// A toll-free number (most cannot receive SMS).
    TollFree,
    /// A premium-rate number: the classic SMS-pumping target.
    PremiumRate,
    /// A shared-cost number.
    SharedCost,
    /// A voice-over-IP number.
    Voip,
    /// A personal (forwarding) number.
    PersonalNumber,
    /// A pager.
    Pager,
    /// A universal access number.
    Uan,
    /// A voicemail access number.
    Voicemail,
    /// None of the types of the region the number is filed under.
    Unknown,
}
