//! Storage of papers and letters: file content in chunks, the letterheads and template overrides of
//! agencies, and the document-number counters.

use std::io::Read;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use sha2::{Digest, Sha256};

use super::schema::{document_templates, letterheads, stored_file_chunks, stored_files};
use super::{now, DbConnection};
use crate::error::AppError;

/// Content is stored in chunks of this size: no upload, download or audit holds more of a file.
pub const CHUNK_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stored_files)]
pub struct StoredFile {
    pub id: String,
    pub case_id: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: chrono::NaiveDateTime,
}

/// Writes a file's content from `content` (already checked: its size and hash are `file`'s).
/// Meant to run inside the transaction that records the file's event.
pub fn store(conn: &mut DbConnection, file: &StoredFile, mut content: impl Read) -> Result<(), AppError> {
    diesel::insert_into(stored_files::table).values(file).execute(conn)?;
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut seq = 0;
    loop {
        let filled = fill(&mut content, &mut buffer).map_err(AppError::internal)?;
        if filled == 0 {
            break;
        }
        diesel::insert_into(stored_file_chunks::table)
            .values((
                stored_file_chunks::file_id.eq(&file.id),
                stored_file_chunks::seq.eq(seq),
                stored_file_chunks::bytes.eq(&buffer[..filled]),
            ))
            .execute(conn)?;
        seq += 1;
        if filled < buffer.len() {
            break;
        }
    }
    Ok(())
}

/// Reads until `buffer` is full or the content ends; the bytes read.
fn fill(content: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match content.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<StoredFile>, AppError> {
    Ok(stored_files::table.find(id).select(StoredFile::as_select()).first(conn).optional()?)
}

/// How many chunks a file has.
pub fn chunk_count(conn: &mut DbConnection, id: &str) -> Result<i64, AppError> {
    Ok(stored_file_chunks::table.filter(stored_file_chunks::file_id.eq(id)).count().get_result(conn)?)
}

/// Chunk `seq` of a file (None past the end).
pub fn chunk(conn: &mut DbConnection, id: &str, seq: i32) -> Result<Option<Vec<u8>>, AppError> {
    Ok(stored_file_chunks::table.find((id, seq)).select(stored_file_chunks::bytes).first::<Vec<u8>>(conn).optional()?)
}

/// A whole file's content (for letters, which are small; attachments are streamed by chunk).
pub fn content(conn: &mut DbConnection, id: &str) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    let mut seq = 0;
    while let Some(bytes) = chunk(conn, id, seq)? {
        out.extend_from_slice(&bytes);
        seq += 1;
    }
    Ok(out)
}

/// The size and SHA-256 of the content stored for a file, read chunk by chunk (None: no such file).
pub fn measure(conn: &mut DbConnection, id: &str) -> Result<Option<(i64, String)>, AppError> {
    if find(conn, id)?.is_none() {
        return Ok(None);
    }
    let mut hasher = Sha256::new();
    let mut size = 0i64;
    let mut seq = 0;
    while let Some(bytes) = chunk(conn, id, seq)? {
        hasher.update(&bytes);
        size += bytes.len() as i64;
        seq += 1;
    }
    Ok(Some((size, hex::encode(hasher.finalize()))))
}

#[derive(QueryableByName)]
struct CounterValue {
    #[diesel(sql_type = Integer)]
    last_value: i32,
}

/// The next document number in (agency, kind, year). Runs inside the transaction that records the
/// letter, so a failed generation gives its number back: numbers stay gap-free. The upsert takes the
/// row lock (PostgreSQL) or the write lock (SQLite) that serializes concurrent generations.
pub fn next_document_seq(conn: &mut DbConnection, agency_id: &str, kind: &str, year: i32) -> QueryResult<i32> {
    const UPSERT: &str = "INSERT INTO document_counters (agency_id, kind, year, last_value) VALUES ({1}, {2}, {3}, 1) \
         ON CONFLICT (agency_id, kind, year) DO UPDATE SET last_value = document_counters.last_value + 1 \
         RETURNING last_value";
    let value = match conn {
        DbConnection::Postgres(c) => {
            diesel::sql_query(UPSERT.replace("{1}", "$1").replace("{2}", "$2").replace("{3}", "$3"))
                .bind::<Text, _>(agency_id)
                .bind::<Text, _>(kind)
                .bind::<Integer, _>(year)
                .get_result::<CounterValue>(c)?
        }
        DbConnection::Sqlite(c) => {
            diesel::sql_query(UPSERT.replace("{1}", "?").replace("{2}", "?").replace("{3}", "?"))
                .bind::<Text, _>(agency_id)
                .bind::<Text, _>(kind)
                .bind::<Integer, _>(year)
                .get_result::<CounterValue>(c)?
        }
    };
    Ok(value.last_value)
}

/// The letterhead set on exactly this agency (JSON), if any.
pub fn letterhead(conn: &mut DbConnection, agency_id: &str) -> Result<Option<String>, AppError> {
    Ok(letterheads::table.find(agency_id).select(letterheads::body).first(conn).optional()?)
}

pub fn put_letterhead(
    conn: &mut DbConnection,
    agency_id: &str,
    body: &str,
    user_id: Option<&str>,
) -> Result<(), AppError> {
    let at = now();
    super::transaction(conn, |conn| {
        let changes = (letterheads::body.eq(body), letterheads::updated_at.eq(at), letterheads::updated_by.eq(user_id));
        if diesel::update(letterheads::table.find(agency_id)).set(changes).execute(conn)? == 0 {
            diesel::insert_into(letterheads::table)
                .values((letterheads::agency_id.eq(agency_id), changes.0, changes.1, changes.2))
                .execute(conn)?;
        }
        Ok(())
    })
    .map_err(AppError::from)
}

/// An agency's own version of template `name`: its text and SHA-256.
pub fn template(conn: &mut DbConnection, agency_id: &str, name: &str) -> Result<Option<(String, String)>, AppError> {
    Ok(document_templates::table
        .find((agency_id, name))
        .select((document_templates::body, document_templates::sha256))
        .first(conn)
        .optional()?)
}

pub fn put_template(
    conn: &mut DbConnection,
    agency_id: &str,
    name: &str,
    body: &str,
    user_id: Option<&str>,
) -> Result<String, AppError> {
    let at = now();
    let sha = hex::encode(Sha256::digest(body.as_bytes()));
    super::transaction(conn, |conn| {
        let changes = (
            document_templates::body.eq(body),
            document_templates::sha256.eq(&sha),
            document_templates::updated_at.eq(at),
            document_templates::updated_by.eq(user_id),
        );
        if diesel::update(document_templates::table.find((agency_id, name))).set(changes).execute(conn)? == 0 {
            diesel::insert_into(document_templates::table)
                .values((
                    document_templates::agency_id.eq(agency_id),
                    document_templates::name.eq(name),
                    changes.0,
                    changes.1,
                    changes.2,
                    changes.3,
                ))
                .execute(conn)?;
        }
        Ok(())
    })
    .map_err(AppError::from)?;
    Ok(sha)
}

/// Removes an agency's own version of a template (its subtree falls back to the next one up).
pub fn delete_template(conn: &mut DbConnection, agency_id: &str, name: &str) -> Result<bool, AppError> {
    let n = diesel::delete(document_templates::table.find((agency_id, name))).execute(conn)?;
    Ok(n > 0)
}
