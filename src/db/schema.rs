//! Table definitions shared by both backends (kept by hand: see diesel.toml).

diesel::table! {
    agencies (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        parent_id -> Nullable<Text>,
        path -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    topics (agency_id, code) {
        agency_id -> Text,
        code -> Text,
        label -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        agency_id -> Nullable<Text>,
        email -> Nullable<Text>,
        created_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
        login -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        password_changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
        client_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    deadline_feeds (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> Nullable<Text>,
        agency_id -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        last_fetched_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    security_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        kind -> Text,
        user_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        login -> Nullable<Text>,
        client_address -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    api_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        id -> Nullable<Text>,
        name -> Text,
        prefix -> Text,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tracking_counters (agency_id, year) {
        agency_id -> Text,
        year -> Integer,
        last_value -> Integer,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        agency_id -> Text,
        tracking_number -> Text,
        tracking_year -> Integer,
        tracking_seq -> Integer,
        state -> Text,
        regime -> Text,
        channel -> Text,
        arrived_at -> Timestamp,
        received_on -> Date,
        receipt_basis -> Text,
        receipt_evidence -> Nullable<Text>,
        applicant_kind -> Text,
        applicant_name -> Text,
        applicant_id_number -> Nullable<Text>,
        applicant_phone -> Nullable<Text>,
        applicant_email -> Nullable<Text>,
        applicant_address -> Nullable<Text>,
        description -> Text,
        delivery_form -> Text,
        topic -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_event_seq -> Integer,
        last_event_hash -> Text,
        due_on -> Nullable<Date>,
        final_due_on -> Nullable<Date>,
        deadline_provisional -> Bool,
        closed_on -> Nullable<Date>,
        closed_as -> Nullable<Text>,
        handler_id -> Nullable<Text>,
        outcome -> Nullable<Text>,
        outcome_reason -> Nullable<Text>,
        already_public -> Bool,
        repeat_of_case_id -> Nullable<Text>,
        draft_outcome -> Nullable<Text>,
        served_on -> Nullable<Date>,
        service_method -> Nullable<Text>,
        transferred_to_case_id -> Nullable<Text>,
        transferred_from_case_id -> Nullable<Text>,
        fee_charged_fen -> BigInt,
        fee_waived_fen -> BigInt,
        stop_ends_on -> Nullable<Date>,
        repeat_of_earlier -> Nullable<Text>,
        fee_paid_fen -> BigInt,
        fee_paid_on -> Nullable<Date>,
        fee_receipt_number -> Nullable<Text>,
        fee_waived_on -> Nullable<Date>,
        re_replies -> Nullable<Text>,
        re_replied_on -> Nullable<Date>,
        applicant_phone_key -> Nullable<Text>,
        applicant_email_key -> Nullable<Text>,
        applicant_id_number_key -> Nullable<Text>,
        search_terms -> Text,
    }
}

diesel::table! {
    reminder_outbox (id) {
        id -> Text,
        dedup_key -> Text,
        recipient -> Text,
        recipient_role -> Text,
        case_id -> Text,
        agency_id -> Text,
        kind -> Text,
        due_on -> Date,
        working_days -> Integer,
        details -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        digest_id -> Nullable<Text>,
    }
}

diesel::table! {
    case_appeals (case_id, number) {
        case_id -> Text,
        number -> Integer,
        kind -> Text,
        filed_on -> Date,
        reference -> Nullable<Text>,
        outcome -> Text,
        decided_on -> Nullable<Date>,
    }
}

diesel::table! {
    case_events (id) {
        id -> Text,
        case_id -> Text,
        seq -> Integer,
        kind -> Text,
        payload -> Text,
        actor_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
        response_location -> Nullable<Text>,
        response_etag -> Nullable<Text>,
    }
}

diesel::table! {
    regimes (code) {
        code -> Text,
        name -> Text,
        agency_id -> Nullable<Text>,
        effective_from -> Date,
        effective_until -> Nullable<Date>,
        reply_days -> Integer,
        max_extension_days -> Integer,
        correction_notice_days -> Nullable<Integer>,
        consultation_lapse_days -> Nullable<Integer>,
        fee_notice_stops_clock -> Bool,
        fee_scheme -> Text,
        agency_delay_allowed -> Bool,
        paused_consultations -> Text,
    }
}

diesel::table! {
    calendar_notices (year) {
        year -> Integer,
        papers -> Text,
        source -> Text,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    calendar_days (scope, date) {
        scope -> Text,
        date -> Date,
        is_off_day -> Bool,
        name -> Text,
        origin -> Text,
    }
}

diesel::table! {
    calendar_revision (id) {
        id -> Integer,
        revision -> Integer,
    }
}

diesel::table! {
    report_locks (agency_id, year, subtree) {
        agency_id -> Text,
        year -> Integer,
        subtree -> Bool,
        locked_by -> Text,
        locked_at -> Timestamp,
        snapshot -> Text,
    }
}

diesel::table! {
    report_corrections (id) {
        id -> Text,
        agency_id -> Text,
        year -> Integer,
        subtree -> Bool,
        case_id -> Text,
        actor_id -> Nullable<Text>,
        reason -> Text,
        events -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::joinable!(cases -> agencies (agency_id));
diesel::joinable!(report_locks -> agencies (agency_id));
diesel::joinable!(reminder_outbox -> agencies (agency_id));
diesel::joinable!(regimes -> agencies (agency_id));
diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(case_appeals -> cases (case_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(topics -> agencies (agency_id));
diesel::joinable!(users -> agencies (agency_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    topics,
    users,
    api_tokens,
    sessions,
    security_events,
    deadline_feeds,
    tracking_counters,
    cases,
    case_events,
    case_appeals,
    idempotency_keys,
    regimes,
    calendar_notices,
    calendar_days,
    calendar_revision,
    report_locks,
    report_corrections,
    reminder_outbox,
    imported_rows,
);

diesel::table! {
    stored_files (id) {
        id -> Text,
        case_id -> Text,
        media_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stored_file_chunks (file_id, seq) {
        file_id -> Text,
        seq -> Integer,
        bytes -> Binary,
    }
}

diesel::table! {
    document_counters (agency_id, kind, year) {
        agency_id -> Text,
        kind -> Text,
        year -> Integer,
        last_value -> Integer,
    }
}

diesel::table! {
    letterheads (agency_id) {
        agency_id -> Text,
        body -> Text,
        updated_at -> Timestamp,
        updated_by -> Nullable<Text>,
    }
}

diesel::table! {
    document_templates (agency_id, name) {
        agency_id -> Text,
        name -> Text,
        body -> Text,
        sha256 -> Text,
        updated_at -> Timestamp,
        updated_by -> Nullable<Text>,
    }
}

diesel::table! {
    imported_rows (case_id) {
        case_id -> Text,
        agency_id -> Text,
        original_number -> Nullable<Text>,
        content_hash -> Text,
        file_sha256 -> Text,
        row_number -> Integer,
        imported_at -> Timestamp,
    }
}
