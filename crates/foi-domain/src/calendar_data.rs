//! The national calendar shipped with the service: the State Council notices 2007-2026 in holiday-cn
//! format (calendar/holiday-cn/, MIT licence there). Loaded into the database by migration-time seeding;
//! later years are imported at run time.

pub const SHIPPED: &[(i32, &str)] = &[
    (2007, include_str!("../../../calendar/holiday-cn/2007.json")),
    (2008, include_str!("../../../calendar/holiday-cn/2008.json")),
    (2009, include_str!("../../../calendar/holiday-cn/2009.json")),
    (2010, include_str!("../../../calendar/holiday-cn/2010.json")),
    (2011, include_str!("../../../calendar/holiday-cn/2011.json")),
    (2012, include_str!("../../../calendar/holiday-cn/2012.json")),
    (2013, include_str!("../../../calendar/holiday-cn/2013.json")),
    (2014, include_str!("../../../calendar/holiday-cn/2014.json")),
    (2015, include_str!("../../../calendar/holiday-cn/2015.json")),
    (2016, include_str!("../../../calendar/holiday-cn/2016.json")),
    (2017, include_str!("../../../calendar/holiday-cn/2017.json")),
    (2018, include_str!("../../../calendar/holiday-cn/2018.json")),
    (2019, include_str!("../../../calendar/holiday-cn/2019.json")),
    (2020, include_str!("../../../calendar/holiday-cn/2020.json")),
    (2021, include_str!("../../../calendar/holiday-cn/2021.json")),
    (2022, include_str!("../../../calendar/holiday-cn/2022.json")),
    (2023, include_str!("../../../calendar/holiday-cn/2023.json")),
    (2024, include_str!("../../../calendar/holiday-cn/2024.json")),
    (2025, include_str!("../../../calendar/holiday-cn/2025.json")),
    (2026, include_str!("../../../calendar/holiday-cn/2026.json")),
];

/// The shipped notices, parsed.
pub fn shipped_notices() -> Vec<super::calendar::YearNotice> {
    SHIPPED.iter().map(|(_, json)| serde_json::from_str(json).expect("shipped notices are valid JSON")).collect()
}

/// The national calendar as shipped (what a fresh database holds).
pub fn shipped_calendar() -> super::calendar::CalendarData {
    let mut data = super::calendar::CalendarData::default();
    for notice in shipped_notices() {
        data.add_notice(&notice);
    }
    data
}
