-- _storage: the tenant's records per object as the analytics files hold them now (each record's latest
-- version, archived ones included: the table keeps them), for the daily storage measure (crm_core.usage).
SELECT 'contacts' AS object, count(*) AS records FROM contacts
UNION ALL SELECT 'companies', count(*) FROM companies
UNION ALL SELECT 'deals', count(*) FROM deals
UNION ALL SELECT 'activities', count(*) FROM activities
UNION ALL SELECT 'tickets', count(*) FROM tickets
