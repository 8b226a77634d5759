"""Built-in reference lists for the synthetic portals.

Everything personal is assembled at random from these short lists; no record describes
a real person. Places are real (states, their districts, the district's main town and the
first three digits of its pincodes) so that the geography in the warehouse looks right.
"""

from __future__ import annotations

from datetime import date

# (state, district, main town, 3-digit pincode prefix)
DISTRICTS: tuple[tuple[str, str, str, str], ...] = (
    ("Maharashtra", "Pune", "Pune", "411"),
    ("Maharashtra", "Mumbai Suburban", "Mumbai", "400"),
    ("Maharashtra", "Nagpur", "Nagpur", "440"),
    ("Maharashtra", "Nashik", "Nashik", "422"),
    ("Maharashtra", "Thane", "Thane", "401"),
    ("Maharashtra", "Kolhapur", "Kolhapur", "416"),
    ("Maharashtra", "Solapur", "Solapur", "413"),
    ("Karnataka", "Bengaluru Urban", "Bengaluru", "560"),
    ("Karnataka", "Mysuru", "Mysuru", "570"),
    ("Karnataka", "Belagavi", "Belagavi", "590"),
    ("Karnataka", "Dharwad", "Hubballi", "580"),
    ("Karnataka", "Dakshina Kannada", "Mangaluru", "575"),
    ("Karnataka", "Kalaburagi", "Kalaburagi", "585"),
    ("Tamil Nadu", "Chennai", "Chennai", "600"),
    ("Tamil Nadu", "Coimbatore", "Coimbatore", "641"),
    ("Tamil Nadu", "Madurai", "Madurai", "625"),
    ("Tamil Nadu", "Tiruchirappalli", "Tiruchirappalli", "620"),
    ("Tamil Nadu", "Salem", "Salem", "636"),
    ("Tamil Nadu", "Tirunelveli", "Tirunelveli", "627"),
    ("Uttar Pradesh", "Lucknow", "Lucknow", "226"),
    ("Uttar Pradesh", "Kanpur Nagar", "Kanpur", "208"),
    ("Uttar Pradesh", "Varanasi", "Varanasi", "221"),
    ("Uttar Pradesh", "Agra", "Agra", "282"),
    ("Uttar Pradesh", "Prayagraj", "Prayagraj", "211"),
    ("Uttar Pradesh", "Gorakhpur", "Gorakhpur", "273"),
    ("Uttar Pradesh", "Meerut", "Meerut", "250"),
    ("West Bengal", "Kolkata", "Kolkata", "700"),
    ("West Bengal", "Howrah", "Howrah", "711"),
    ("West Bengal", "Darjeeling", "Siliguri", "734"),
    ("West Bengal", "Murshidabad", "Baharampur", "742"),
    ("West Bengal", "Nadia", "Krishnanagar", "741"),
    ("Gujarat", "Ahmedabad", "Ahmedabad", "380"),
    ("Gujarat", "Surat", "Surat", "395"),
    ("Gujarat", "Vadodara", "Vadodara", "390"),
    ("Gujarat", "Rajkot", "Rajkot", "360"),
    ("Gujarat", "Kutch", "Bhuj", "370"),
    ("Rajasthan", "Jaipur", "Jaipur", "302"),
    ("Rajasthan", "Jodhpur", "Jodhpur", "342"),
    ("Rajasthan", "Udaipur", "Udaipur", "313"),
    ("Rajasthan", "Kota", "Kota", "324"),
    ("Rajasthan", "Ajmer", "Ajmer", "305"),
    ("Rajasthan", "Bikaner", "Bikaner", "334"),
    ("Kerala", "Thiruvananthapuram", "Thiruvananthapuram", "695"),
    ("Kerala", "Ernakulam", "Kochi", "682"),
    ("Kerala", "Kozhikode", "Kozhikode", "673"),
    ("Kerala", "Thrissur", "Thrissur", "680"),
    ("Kerala", "Kannur", "Kannur", "670"),
    ("Bihar", "Patna", "Patna", "800"),
    ("Bihar", "Gaya", "Gaya", "823"),
    ("Bihar", "Muzaffarpur", "Muzaffarpur", "842"),
    ("Bihar", "Bhagalpur", "Bhagalpur", "812"),
    ("Bihar", "Darbhanga", "Darbhanga", "846"),
    ("Madhya Pradesh", "Bhopal", "Bhopal", "462"),
    ("Madhya Pradesh", "Indore", "Indore", "452"),
    ("Madhya Pradesh", "Jabalpur", "Jabalpur", "482"),
    ("Madhya Pradesh", "Gwalior", "Gwalior", "474"),
    ("Madhya Pradesh", "Ujjain", "Ujjain", "456"),
    ("Telangana", "Hyderabad", "Hyderabad", "500"),
    ("Telangana", "Warangal", "Warangal", "506"),
    ("Telangana", "Karimnagar", "Karimnagar", "505"),
    ("Telangana", "Nizamabad", "Nizamabad", "503"),
    ("Odisha", "Khordha", "Bhubaneswar", "751"),
    ("Odisha", "Cuttack", "Cuttack", "753"),
    ("Odisha", "Ganjam", "Berhampur", "760"),
    ("Odisha", "Sambalpur", "Sambalpur", "768"),
    ("Punjab", "Ludhiana", "Ludhiana", "141"),
    ("Punjab", "Amritsar", "Amritsar", "143"),
    ("Punjab", "Jalandhar", "Jalandhar", "144"),
    ("Punjab", "Patiala", "Patiala", "147"),
    ("Assam", "Kamrup Metropolitan", "Guwahati", "781"),
    ("Assam", "Dibrugarh", "Dibrugarh", "786"),
    ("Assam", "Jorhat", "Jorhat", "785"),
    ("Assam", "Cachar", "Silchar", "788"),
)

# Relative population weight of each district (bigger cities draw more applicants).
METRO_DISTRICTS = frozenset({
    "Pune", "Mumbai Suburban", "Bengaluru Urban", "Chennai", "Kolkata", "Hyderabad",
    "Ahmedabad", "Lucknow", "Jaipur", "Patna",
})

# Districts that host a district office of every line department.
OFFICE_DISTRICTS: tuple[str, ...] = (
    "Pune", "Bengaluru Urban", "Chennai", "Lucknow", "Kolkata", "Ahmedabad",
    "Jaipur", "Hyderabad",
)

MALE_NAMES = (
    "Aarav", "Vivaan", "Aditya", "Arjun", "Sai", "Reyansh", "Krishna", "Ishaan", "Rohan", "Kabir",
    "Rahul", "Amit", "Suresh", "Ramesh", "Vijay", "Manoj", "Sanjay", "Rajesh", "Anil", "Deepak",
    "Harish", "Mohan", "Gopal", "Naveen", "Pradeep", "Imran", "Salim", "Joseph", "Thomas", "Gurpreet",
    "Harpreet", "Abhishek", "Nikhil", "Karthik", "Prakash", "Venkatesh", "Dinesh", "Ashok", "Farhan", "Tenzin",
)
FEMALE_NAMES = (
    "Aadhya", "Ananya", "Diya", "Saanvi", "Pari", "Anika", "Navya", "Myra", "Sara", "Ira",
    "Priya", "Sunita", "Anita", "Kavita", "Pooja", "Neha", "Meena", "Lakshmi", "Geeta", "Rekha",
    "Shalini", "Divya", "Swati", "Asha", "Radha", "Fatima", "Ayesha", "Mary", "Simran", "Harleen",
    "Deepika", "Sneha", "Revathi", "Bhavana", "Jyoti", "Usha", "Nandini", "Farzana", "Pema", "Keerthi",
)
OTHER_NAMES = ("Ashwin", "Kiran", "Ravi", "Shan", "Noor", "Jaya", "Amal", "Sagar")
SURNAMES = (
    "Sharma", "Verma", "Gupta", "Singh", "Kumar", "Patel", "Shah", "Mehta", "Joshi", "Desai",
    "Kulkarni", "Deshpande", "Patil", "Pawar", "Jadhav", "Reddy", "Rao", "Naidu", "Iyer", "Iyengar",
    "Nair", "Menon", "Pillai", "Das", "Bose", "Banerjee", "Chatterjee", "Mukherjee", "Ghosh", "Sen",
    "Yadav", "Mishra", "Tiwari", "Pandey", "Dubey", "Chauhan", "Rathore", "Khan", "Ansari", "Qureshi",
    "Fernandes", "D'Souza", "Gill", "Sandhu", "Dhillon", "Bora", "Baruah", "Mohanty", "Sahoo", "Hegde",
)
STREET_WORDS = (
    "Gandhi", "Nehru", "Station", "Temple", "Market", "Lake", "Hill", "Park", "Church", "Mill",
    "Ganesh", "Shivaji", "Tilak", "Ambedkar", "Rajaji", "Subhash", "MG", "Old Post Office", "Bazaar", "Canal",
)
STREET_KINDS = ("Road", "Marg", "Street", "Nagar", "Colony", "Lane", "Chowk", "Layout", "Cross")
EMAIL_DOMAINS = ("example.in", "mail.example", "inbox.example", "post.example.org")
LANGUAGES = ("en", "hi", "mr", "ta", "te", "kn", "bn", "gu", "ml", "pa", "or", "as")

# National holidays observed by every office.
def is_national_holiday(d: date) -> bool:
    return (d.month, d.day) in {(1, 26), (8, 15), (10, 2)}


# Line departments under the state: (code, name).
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("REV", "Revenue Department"),
    ("SWD", "Social Welfare Department"),
    ("AGR", "Agriculture and Farmers Welfare Department"),
    ("HFW", "Health and Family Welfare Department"),
    ("EDU", "School Education Department"),
    ("HED", "Higher Education Department"),
    ("LAB", "Labour and Employment Department"),
    ("WCD", "Women and Child Development Department"),
    ("RDP", "Rural Development and Panchayat Raj Department"),
    ("UDH", "Urban Development and Housing Department"),
    ("FCS", "Food and Civil Supplies Department"),
    ("MSME", "Industries and MSME Department"),
)
# The department renamed during the seeded period: (code, new name).
RENAMED_DEPARTMENT = ("SWD", "Social Justice and Empowerment Department")

# (designation code, name, grade level, can approve)
DESIGNATIONS: tuple[tuple[str, str, int, bool], ...] = (
    ("DEO", "Data Entry Operator", 1, False),
    ("CLK", "Clerk", 2, False),
    ("SAS", "Senior Assistant", 3, False),
    ("FVO", "Field Verification Officer", 4, False),
    ("SO", "Section Officer", 5, False),
    ("TSD", "Tahsildar", 6, True),
    ("ADR", "Assistant Director", 7, True),
    ("DDR", "Deputy Director", 8, True),
    ("JDR", "Joint Director", 9, True),
    ("DIR", "Director", 10, True),
)

# (scheme code, scheme name, category, department code, benefit amount or None, SLA days,
#  number of documents required)
SCHEMES: tuple[tuple[str, str, str, str, float | None, int, int], ...] = (
    ("REV-INC", "Income Certificate", "certificate", "REV", None, 7, 2),
    ("REV-CST", "Caste Certificate", "certificate", "REV", None, 15, 3),
    ("REV-DOM", "Domicile Certificate", "certificate", "REV", None, 10, 2),
    ("REV-LND", "Land Record Mutation", "certificate", "REV", None, 30, 3),
    ("REV-FLD", "Flood Relief Assistance", "disaster_relief", "REV", 10000.0, 21, 3),
    ("SWD-OAP", "Old Age Pension", "pension", "SWD", 18000.0, 30, 3),
    ("SWD-WDP", "Widow Pension", "pension", "SWD", 18000.0, 30, 3),
    ("SWD-DSP", "Disability Pension", "pension", "SWD", 24000.0, 30, 4),
    ("SWD-SCS", "Post-Matric Scholarship for SC Students", "scholarship", "SWD", 25000.0, 45, 4),
    ("SWD-MRG", "Inter-Caste Marriage Incentive", "social_security", "SWD", 50000.0, 60, 4),
    ("AGR-SED", "Seed Subsidy", "agriculture", "AGR", 5000.0, 15, 2),
    ("AGR-DRP", "Drip Irrigation Subsidy", "agriculture", "AGR", 45000.0, 45, 3),
    ("AGR-CRP", "Crop Loss Compensation", "agriculture", "AGR", 15000.0, 30, 3),
    ("AGR-FMC", "Farm Machinery Subsidy", "agriculture", "AGR", 60000.0, 45, 3),
    ("AGR-SHC", "Soil Health Card", "agriculture", "AGR", None, 20, 1),
    ("HFW-MAT", "Maternity Benefit", "health", "HFW", 6000.0, 21, 3),
    ("HFW-CHI", "Critical Illness Assistance", "health", "HFW", 150000.0, 15, 4),
    ("HFW-HIC", "Health Insurance Card", "health", "HFW", None, 15, 2),
    ("HFW-JSY", "Institutional Delivery Incentive", "health", "HFW", 1400.0, 14, 2),
    ("EDU-UNI", "Free School Uniform", "education", "EDU", 1200.0, 20, 2),
    ("EDU-BIC", "Bicycle for Girl Students", "education", "EDU", 4000.0, 30, 2),
    ("EDU-PMS", "Pre-Matric Scholarship", "scholarship", "EDU", 5000.0, 45, 3),
    ("HED-MER", "Merit Scholarship for Higher Education", "scholarship", "HED", 30000.0, 45, 4),
    ("HED-LAP", "Laptop Scheme for Students", "education", "HED", 35000.0, 60, 3),
    ("HED-FEE", "Tuition Fee Reimbursement", "scholarship", "HED", 40000.0, 45, 4),
    ("LAB-UNE", "Unemployment Allowance", "employment", "LAB", 12000.0, 30, 3),
    ("LAB-CWB", "Construction Worker Welfare", "social_security", "LAB", 10000.0, 30, 3),
    ("LAB-SKL", "Skill Training Stipend", "employment", "LAB", 8000.0, 21, 2),
    ("LAB-REG", "Worker Registration Card", "certificate", "LAB", None, 10, 2),
    ("WCD-GCH", "Girl Child Savings Bond", "women_child", "WCD", 25000.0, 45, 3),
    ("WCD-NUT", "Supplementary Nutrition Kit", "women_child", "WCD", 2500.0, 15, 2),
    ("WCD-WSH", "Women Self-Help Group Grant", "women_child", "WCD", 75000.0, 60, 4),
    ("WCD-MAR", "Marriage Assistance for Girls", "women_child", "WCD", 51000.0, 45, 4),
    ("RDP-HSG", "Rural Housing Assistance", "housing", "RDP", 120000.0, 60, 4),
    ("RDP-TLT", "Household Toilet Incentive", "sanitation", "RDP", 12000.0, 30, 2),
    ("RDP-JOB", "Rural Job Card", "employment", "RDP", None, 15, 2),
    ("UDH-HSG", "Urban Affordable Housing Subsidy", "housing", "UDH", 250000.0, 90, 5),
    ("UDH-STV", "Street Vendor Micro-Credit", "livelihood", "UDH", 10000.0, 30, 2),
    ("UDH-WTR", "Water Connection Subsidy", "housing", "UDH", 3000.0, 21, 2),
    ("FCS-RAT", "New Ration Card", "food_security", "FCS", None, 30, 3),
    ("FCS-LPG", "LPG Connection for BPL Households", "food_security", "FCS", 1600.0, 21, 2),
    ("FCS-ANN", "Annapurna Food Grain Entitlement", "food_security", "FCS", 3600.0, 21, 2),
    ("MSME-SEG", "Self-Employment Generation Loan", "livelihood", "MSME", 200000.0, 60, 5),
    ("MSME-ART", "Artisan Toolkit Grant", "livelihood", "MSME", 15000.0, 30, 3),
    ("MSME-WEN", "Women Entrepreneur Seed Capital", "livelihood", "MSME", 100000.0, 60, 4),
    ("SWD-TRN", "Transgender Welfare Allowance", "social_security", "SWD", 18000.0, 30, 3),
    ("AGR-KCC", "Farmer Credit Card Interest Subvention", "agriculture", "AGR", 20000.0, 30, 3),
    ("HFW-EYE", "Spectacles for Senior Citizens", "health", "HFW", 800.0, 14, 1),
    ("EDU-HST", "Hostel Admission Grant", "education", "EDU", 9000.0, 30, 3),
    ("MSME-HST", "Homestay Registration Grant", "livelihood", "MSME", 30000.0, 45, 3),
)
# Department codes that no department in smart_dept carries: the dirty-data kind
# scheme_unknown_department points a scheme at one of these.
UNKNOWN_DEPARTMENT_CODES = ("TOU", "FIN-OLD", "PWD-X")

DOCUMENT_TYPES_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    "certificate": ("identity_proof", "address_proof", "birth_certificate", "land_record", "photograph"),
    "pension": ("identity_proof", "address_proof", "bank_passbook", "income_certificate", "photograph"),
    "scholarship": ("identity_proof", "income_certificate", "caste_certificate", "bank_passbook", "other"),
    "agriculture": ("identity_proof", "land_record", "bank_passbook", "photograph"),
    "health": ("identity_proof", "income_certificate", "other", "bank_passbook"),
    "education": ("identity_proof", "address_proof", "photograph", "other"),
    "employment": ("identity_proof", "address_proof", "bank_passbook", "photograph"),
    "women_child": ("identity_proof", "birth_certificate", "bank_passbook", "income_certificate"),
    "housing": ("identity_proof", "address_proof", "income_certificate", "land_record", "bank_passbook"),
    "social_security": ("identity_proof", "address_proof", "bank_passbook", "income_certificate"),
    "sanitation": ("identity_proof", "address_proof", "photograph"),
    "food_security": ("identity_proof", "address_proof", "income_certificate"),
    "livelihood": ("identity_proof", "address_proof", "bank_passbook", "photograph", "other"),
    "disaster_relief": ("identity_proof", "address_proof", "bank_passbook", "photograph"),
}

# Monitored components: (code, name, type, data centre)
COMPONENTS: tuple[tuple[str, str, str, str], ...] = (
    ("CIT-WEB", "Citizen portal web tier", "web_server", "public"),
    ("CIT-API", "Citizen portal API", "api_service", "public"),
    ("CIT-DB", "Citizen portal database", "database", "public"),
    ("CIT-CDN", "Citizen portal CDN edge", "cdn", "public"),
    ("DEPT-WEB", "Department portal web tier", "web_server", "internal"),
    ("DEPT-API", "Department workflow API", "api_service", "internal"),
    ("DEPT-DB", "Department portal database", "database", "internal"),
    ("AIML-API", "Model serving API", "api_service", "restricted"),
    ("AIML-DB", "ML registry database", "database", "restricted"),
    ("AIML-BATCH", "Batch scoring workers", "batch_worker", "restricted"),
    ("MLFLOW", "MLflow tracking server", "api_service", "restricted"),
    ("DWH-DB", "Warehouse database", "database", "restricted"),
    ("ETL-DAGSTER", "ETL orchestrator", "orchestrator", "restricted"),
    ("SMS-GW", "SMS gateway", "external_gateway", "public"),
    ("PAY-GW", "Payment gateway (DBT)", "external_gateway", "internal"),
    ("MON-DB", "Monitoring database", "database", "admin"),
)
ENDPOINTS_BY_COMPONENT: dict[str, tuple[str, ...]] = {
    "CIT-API": ("/api/applications", "/api/documents", "/api/schemes", "/api/login"),
    "DEPT-API": ("/api/queue", "/api/actions", "/api/verifications"),
    "AIML-API": ("/v1/eligibility/score", "/v1/sla/predict"),
    "CIT-WEB": ("/", "/apply"),
    "PAY-GW": ("/dbt/transfer",),
}
LOG_MESSAGES = {
    "info": ("request completed", "cache refreshed", "batch finished", "user session started",
             "scheduled job started"),
    "warning": ("slow query over 2 s", "retrying upstream call", "connection pool at 80%",
                "certificate expires in 20 days", "queue depth above threshold"),
    "error": ("upstream timeout", "database connection reset", "payment callback rejected",
              "document upload failed checksum", "OTP delivery failed"),
    "critical": ("service unavailable", "disk usage above 95%", "replication lag above 5 min"),
}
ADMIN_ROLES = ("superadmin", "operator", "operator", "auditor", "viewer")
